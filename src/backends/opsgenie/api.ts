/**
 * Wiring: the configuration of one account → transport(s), client and backend, for
 * either API flavour: Opsgenie (`GenieKey`) or JSM Operations (Basic e-mail:token).
 */
import { type Clock, systemClock } from "../../http/clock.ts";
import { OpsgenieBackend, type OpsgenieBackendOptions } from "./backend.ts";
import { DEFAULT_POLL, OpsgenieClient, type PollPolicy } from "./client.ts";
import { JsmClient } from "./jsm_client.ts";
import { DEFAULT_RETRY, OpsgenieTransport, type RetryPolicy, type TransportOptions } from "./transport.ts";

export const DEFAULT_API_ENDPOINT = "https://api.opsgenie.com";
export const EU_API_ENDPOINT = "https://api.eu.opsgenie.com";
export const DEFAULT_JSM_API_ENDPOINT = "https://api.atlassian.com";
/** Client-side calls per minute per Opsgenie domain (Opsgenie's own buckets are larger for most plans). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Opsgenie's REST API, or its successor, Jira Service Management Operations. */
export type ApiFlavour = "opsgenie" | "jsm";

export interface OpsgenieApiConfig {
  /** Default "opsgenie". */
  api?: ApiFlavour;
  /** Opsgenie: the API integration's key. */
  apiKey?: string;
  /** JSM: the site's cloud id, and the account e-mail and API token of the plugin's user. */
  cloudId?: string;
  userEmail?: string;
  apiToken?: string;
  /** Host root: https://api.opsgenie.com, https://api.eu.opsgenie.com, https://api.atlassian.com, or a double. */
  apiEndpoint: string;
  requestTimeout?: number;
  rateLimitPerMinute?: number;
  /** PEM CA bundle trusted in addition to the system roots (private endpoints, proxies). */
  caFile?: string;
}

export interface OpsgenieClientOptions {
  retry?: Partial<RetryPolicy>;
  poll?: Partial<PollPolicy>;
  rateLimitBurst?: number;
  clock?: Clock;
}

/** A client for the account; dispose it to release its HTTP client. */
export function createOpsgenieClient(
  config: OpsgenieApiConfig,
  options: OpsgenieClientOptions = {},
): OpsgenieClient & Disposable {
  const clock = options.clock ?? systemClock;
  const httpClient = config.caFile
    ? Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(config.caFile)] })
    : undefined;
  const endpoint = config.apiEndpoint.replace(/\/+$/, "");
  const common = {
    requestTimeoutMs: config.requestTimeout || DEFAULT_REQUEST_TIMEOUT_MS,
    ratePerMinute: config.rateLimitPerMinute || DEFAULT_RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: options.rateLimitBurst,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    clock,
    httpClient,
  } satisfies Partial<TransportOptions>;
  const poll = { ...DEFAULT_POLL, ...options.poll };
  let client: OpsgenieClient;
  if (config.api === "jsm") {
    const secret = config.apiToken ?? "";
    const credentials = {
      authorization: `Basic ${btoa(`${config.userEmail ?? ""}:${secret}`)}`,
      secrets: [secret, btoa(`${config.userEmail ?? ""}:${secret}`)],
    };
    const cloudId = encodeURIComponent(config.cloudId ?? "");
    client = new JsmClient(
      new OpsgenieTransport({ ...common, ...credentials, root: `${endpoint}/jsm/ops/api/${cloudId}/v1` }),
      new OpsgenieTransport({ ...common, ...credentials, root: `${endpoint}/ex/jira/${cloudId}/rest/api/3` }),
      clock,
      poll,
    );
  } else {
    const key = config.apiKey ?? "";
    client = new OpsgenieClient(
      new OpsgenieTransport({
        ...common,
        authorization: `GenieKey ${key}`,
        secrets: [key],
        root: `${endpoint}/v2`,
      }),
      clock,
      poll,
    );
  }
  return Object.assign(client, { [Symbol.dispose]: () => httpClient?.close() });
}

/** The backend for the account. */
export function createOpsgenieBackend(
  config: OpsgenieApiConfig,
  behaviour: OpsgenieBackendOptions,
  options: OpsgenieClientOptions = {},
): OpsgenieBackend & Disposable {
  const client = createOpsgenieClient(config, options);
  return Object.assign(new OpsgenieBackend(client, behaviour), {
    [Symbol.dispose]: () => client[Symbol.dispose](),
  });
}
