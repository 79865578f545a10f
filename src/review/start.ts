/**
 * Wiring for the composition root: builds the review feature from the running
 * clients and starts its server (`[review] enabled = true` only).
 */
import type { PagerDutyClient } from "../backends/pagerduty/client.ts";
import { PagerDutyReviewApi } from "../backends/pagerduty/review_api.ts";
import type { Config } from "../config/types.ts";
import type { TeleportClient } from "../teleport/client.ts";
import { type ReviewServer, type ReviewServerOptions, startReviewServer } from "./server.ts";

/** Hooks and limits for tests and the demo. */
export type ReviewHooks = Pick<ReviewServerOptions, "onListen" | "onOutcome" | "sourceLimit">;

/** Starts the review server; disposing it stops the server and the feature's PagerDuty client. */
export async function startReviews(
  config: Config,
  clients: {
    teleport: TeleportClient;
    incidents: PagerDutyClient;
    serverVersion: string;
    instanceId?: string;
  },
  hooks: ReviewHooks = {},
): Promise<ReviewServer> {
  const api = new PagerDutyReviewApi(config.pagerduty);
  let server: ReviewServer;
  try {
    server = await startReviewServer({
      config: config.review!,
      teleport: clients.teleport,
      pagerduty: {
        getIncident: (id) => api.getIncident(id),
        listLogEntries: (id) => api.listLogEntries(id),
        getUser: (id) => api.getUser(id),
        addNote: (id, content) => clients.incidents.addNote(id, content),
      },
      pluginName: "pagerduty",
      instanceId: clients.instanceId ?? `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`,
      serverVersion: clients.serverVersion,
      ...hooks,
    });
  } catch (error) {
    api.close();
    throw error;
  }
  return {
    port: server.port,
    async [Symbol.asyncDispose]() {
      await server[Symbol.asyncDispose]();
      api.close();
    },
  };
}
