/**
 * A world with reviews from PagerDuty turned on: Teleport 18 with the plugin allowed to
 * submit for users, mapped and unmapped people, an approve/deny workflow reached through
 * a real V3 subscription, and approve/deny Custom Incident Actions.
 */
import { PagerDutyReviewApi } from "../../src/backends/pagerduty/review_api.ts";
import type { DoubleUser } from "../../src/doubles/pagerduty_double.ts";
import {
  eventually,
  PLUGIN_USER,
  type RunningPlugin,
  startWorld,
  type World,
} from "../../src/doubles/world.ts";
import type { Outcome } from "../../src/review/pipeline.ts";
import { ACTION_PATHS, ACTION_SECRET_HEADER, WEBHOOK_PATH } from "../../src/review/endpoints.ts";
import type { ReviewConfig } from "../../src/config/review.ts";
import type { RunOptions } from "../../src/run.ts";

export const TRAIT = "pagerduty_user_id";
export const REQUESTER = "requester@example.com";
export const ALICE = "alice@example.com";
export const BOB = "bob@example.com";
export const APPROVE_SECRET = "approve-secret-0123456789abcdef";
export const DENY_SECRET = "deny-secret-0123456789abcdef";

export interface Instance {
  running: RunningPlugin;
  port: number;
  outcomes: Outcome[];
}

export interface ReviewSuite extends AsyncDisposable {
  world: World;
  main: Instance;
  /** PagerDuty users: alice and bob are mapped by trait, carol is the requester, dave nobody. */
  pd: { alice: DoubleUser; bob: DoubleUser; carol: DoubleUser; dave: DoubleUser };
  triggers: { approve: string; deny: string };
  actions: { approve: string; deny: string };
  /** A pending request with its incident created and recorded in plugin data. */
  request(roles?: string[]): Promise<{ requestId: string; incidentId: string }>;
  /** Another plugin instance with its own review listener. */
  startInstance(): Promise<Instance>;
  /** The outcome of `eventId` on `instance` (waits for it). */
  outcome(eventId: string, instance?: Instance): Promise<Outcome>;
  webhookUrl(instance?: Instance): string;
}

export async function startReviewSuite(
  options: { serverVersion?: string; submitFor?: string[]; review?: Partial<ReviewConfig> } = {},
): Promise<ReviewSuite> {
  const world = await startWorld({ serverVersion: options.serverVersion ?? "18.1.0" });
  try {
    return await setUp(world, options);
  } catch (error) {
    await world[Symbol.asyncDispose]();
    throw error;
  }
}

async function setUp(
  world: World,
  options: { submitFor?: string[]; review?: Partial<ReviewConfig> },
): Promise<ReviewSuite> {
  const { teleport, pagerduty } = world;
  const service = pagerduty.addService({ name: "Teleport Notifications" });
  const pd = {
    alice: pagerduty.addUser({ name: "Alice", email: ALICE }),
    bob: pagerduty.addUser({ name: "Bob", email: BOB }),
    carol: pagerduty.addUser({ name: "Carol", email: REQUESTER }),
    dave: pagerduty.addUser({ name: "Dave", email: "dave@example.com" }),
  };
  teleport.setSubmitForUsers(PLUGIN_USER, options.submitFor ?? ["*"]);
  teleport.addUser(ALICE, { roles: ["reviewer"], traits: { [TRAIT]: [pd.alice.id] } });
  teleport.addUser(BOB, { roles: ["auditor-reviewer"], traits: { [TRAIT]: [pd.bob.id] } });
  teleport.addUser(REQUESTER, { roles: ["requester"], traits: { [TRAIT]: [pd.carol.id] } });
  teleport.setReviewer(ALICE, ["editor"]);
  teleport.setReviewer(BOB, ["auditor"]);
  teleport.setReviewer(REQUESTER, ["editor"]);

  const approve = pagerduty.addWorkflow({ name: "Approve Teleport access request" });
  const deny = pagerduty.addWorkflow({ name: "Deny Teleport access request" });
  // The subscription is created the way review-setup does; its secret goes into the config.
  const api = new PagerDutyReviewApi(world.config.pagerduty);
  const subscription = await api.createSubscription({
    url: "https://placeholder.invalid/pagerduty/webhook",
    events: ["incident.workflow.started"],
    serviceId: service.id,
    description: "Teleport access request reviews",
  });
  world.config.review = {
    enabled: true,
    listenAddr: "127.0.0.1:0",
    webhookSecrets: [subscription.secret!],
    approveIds: [approve.triggerId],
    denyIds: [deny.triggerId],
    actionSecrets: { approve: APPROVE_SECRET, deny: DENY_SECRET },
    services: [service.id],
    userTrait: TRAIT,
    matchEmail: false,
    ...options.review,
  };

  const startInstance = async (overrides: Partial<RunOptions> = {}): Promise<Instance> => {
    const outcomes: Outcome[] = [];
    let port = 0;
    const running = await world.startPlugin({
      ...overrides,
      review: { onListen: (p) => port = p, onOutcome: (o) => outcomes.push(o), ...overrides.review },
    });
    return { running, port, outcomes };
  };
  const main = await startInstance();
  const webhookUrl = (instance = main) => `http://127.0.0.1:${instance.port}${WEBHOOK_PATH}`;
  await api.updateSubscription(subscription.id, {
    url: webhookUrl(main),
    events: ["incident.workflow.started"],
    serviceId: service.id,
    description: "Teleport access request reviews",
  });
  api.close();
  const actionUrl = (action: "approve" | "deny") => `http://127.0.0.1:${main.port}${ACTION_PATHS[action]}`;
  const actions = {
    approve: pagerduty.addCustomAction({
      serviceId: service.id,
      name: "Approve Request",
      url: actionUrl("approve"),
      headers: { [ACTION_SECRET_HEADER]: APPROVE_SECRET },
    }),
    deny: pagerduty.addCustomAction({
      serviceId: service.id,
      name: "Deny Request",
      url: actionUrl("deny"),
      headers: { [ACTION_SECRET_HEADER]: DENY_SECRET },
    }),
  };

  return {
    world,
    main,
    pd,
    triggers: { approve: approve.triggerId, deny: deny.triggerId },
    actions,
    async request(roles = ["editor"]) {
      const requestId = teleport.createRequest({
        user: REQUESTER,
        roles,
        reason: "deploy",
        systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications"] },
      });
      const data = await eventually(`plugin data of ${requestId}`, () => {
        const found = teleport.pluginData(requestId, "pagerduty");
        return found?.incident_id ? found : undefined;
      });
      return { requestId, incidentId: data.incident_id };
    },
    startInstance: () => startInstance(),
    outcome(eventId, instance = main) {
      return eventually(`outcome of ${eventId}`, () => instance.outcomes.find((o) => o.eventId === eventId));
    },
    webhookUrl,
    [Symbol.asyncDispose]: () => world[Symbol.asyncDispose](),
  };
}
