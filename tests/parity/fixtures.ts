/**
 * The upstream suite's fixtures (spec §7.2 SetupTest): PagerDuty services and
 * escalation policies, requesters and reviewers, and the request annotations
 * their roles put on every access request.
 */
import {
  eventually,
  PLUGIN_USER,
  type RunningPlugin,
  startWorld,
  type World,
} from "../../src/doubles/world.ts";
import type { DoubleService } from "../../src/doubles/pagerduty_double.ts";
import type { NewRequest } from "../../src/doubles/teleport_double.ts";

export const REQUESTER = "requester-oss@example.com";
export const REQUESTER1 = "requester1@example.com";
export const REQUESTER2 = "requester2@example.com";
export const REVIEWER1 = "reviewer1@example.com";
export const REVIEWER2 = "reviewer2@example.com";

export interface Suite extends AsyncDisposable {
  world: World;
  plugin: RunningPlugin;
  notifyService: DoubleService;
  /** Escalation policies of "Service 1", "Service 2" and the unannotated "Service 3". */
  policies: [string, string, string];
  /** A request as the OSS requester makes it: role editor, reason "because of", both annotations. */
  request(overrides?: Partial<NewRequest>): string;
  /** Waits for the request's plugin data to satisfy `probe`. */
  pluginData(
    requestId: string,
    probe: (data: Record<string, string>) => boolean,
  ): Promise<Record<string, string>>;
  /** Waits for the incident created for the request. */
  incidentOf(requestId: string): Promise<ReturnType<World["pagerduty"]["incidents"]>[number]>;
}

export async function startSuite(options: { startPlugin?: boolean } = {}): Promise<Suite> {
  const world = await startWorld({
    advancedAccessWorkflows: true,
    proxyPublicAddr: "teleport.example.com:443",
  });
  const pd = world.pagerduty;
  const notifyService = pd.addService({ name: "Teleport Notifications" });
  pd.addService({ name: "Teleport Notifications Two" });
  const policies: [string, string, string] = [
    "escalation_policy-1",
    "escalation_policy-2",
    "escalation_policy-3",
  ];
  pd.addService({ name: "Service 1", escalationPolicyId: policies[0] });
  pd.addService({ name: "Service 2", escalationPolicyId: policies[1] });
  pd.addService({ name: "Service 3", escalationPolicyId: policies[2] });
  world.teleport.setReviewer(PLUGIN_USER, ["editor"]);
  world.teleport.setReviewer(REVIEWER1, ["editor"]);
  world.teleport.setReviewer(REVIEWER2, ["editor"]);
  const plugin = options.startPlugin === false
    ? undefined!
    : await world.startPlugin().catch(async (error) => {
      await world[Symbol.asyncDispose]();
      throw error;
    });

  return {
    world,
    plugin,
    notifyService,
    policies,
    request(overrides = {}) {
      return world.teleport.createRequest({
        user: REQUESTER,
        roles: ["editor"],
        reason: "because of",
        systemAnnotations: {
          pagerduty_notify_service: ["Teleport Notifications"],
          pagerduty_services: ["Service 1", "Service 2"],
        },
        ...overrides,
      });
    },
    pluginData(requestId, probe) {
      return eventually(`plugin data of ${requestId}`, () => {
        const data = world.teleport.pluginData(requestId, "pagerduty");
        return data && probe(data) ? data : undefined;
      });
    },
    incidentOf(requestId) {
      return eventually(
        `incident of ${requestId}`,
        () => pd.incidents().find((i) => i.incidentKey === `teleport-access-request/${requestId}`),
      );
    },
    [Symbol.asyncDispose]: () => world[Symbol.asyncDispose](),
  };
}
