/**
 * One view of every backend for the lifecycle suite: the same scenario runs against
 * PagerDuty, Opsgenie and JSM Operations, each through the real plugin and its
 * contract-checked double. A backend's notifications (incidents or alerts) are read
 * back per request with their notes and whether they were resolved (closed).
 */
import { eventually, type RunningPlugin } from "../../src/doubles/world.ts";
import type { FaultSelector, Violation } from "../../src/doubles/http_double.ts";
import type { RateLimitHint } from "../../src/doubles/http_api_double.ts";
import type { NewRequest, TeleportDouble } from "../../src/doubles/teleport_double.ts";
import { type AlertApi, startOpsgenieWorld } from "../../src/doubles/opsgenie_world.ts";
import { PLUGIN_USER } from "../../src/doubles/world.ts";
import { REQUESTER, REVIEWER1, REVIEWER2, startSuite } from "../parity/fixtures.ts";

export type BackendName = "pagerduty" | AlertApi;
export const BACKENDS: readonly BackendName[] = ["pagerduty", "opsgenie", "jsm"];

/** An incident or alert, as the backend's double holds it. */
export interface Notified {
  id: string;
  resolved: boolean;
  notes: string[];
}

export interface BackendSuite extends AsyncDisposable {
  backend: BackendName;
  teleport: TeleportDouble;
  /** The instance started with the suite (unless `startPlugin: false`). */
  plugin: RunningPlugin;
  startPlugin(): Promise<RunningPlugin>;
  /** A pending request that asks for a notification only. */
  request(overrides?: Partial<NewRequest>): string;
  pluginData(id: string, probe: (d: Record<string, string>) => boolean): Promise<Record<string, string>>;
  /** Notifications per request id. */
  ledger(): Map<string, Notified[]>;
  /** How many resolve (close) calls reached the backend. */
  resolveCalls(): number;
  inject429(selector: FaultSelector, hint?: RateLimitHint): void;
  inject5xx(selector: FaultSelector, status?: number): void;
  violations(): Violation[];
}

const PREFIX = "teleport-access-request/";

/** Starts the backend's world with upstream's fixtures; one instance runs unless told otherwise. */
export function startBackendSuite(
  backend: BackendName,
  options: { startPlugin?: boolean } = {},
): Promise<BackendSuite> {
  return backend === "pagerduty" ? pagerDutySuite(options) : alertSuite(backend, options);
}

async function pagerDutySuite(options: { startPlugin?: boolean }): Promise<BackendSuite> {
  const suite = await startSuite(options);
  const pd = suite.world.pagerduty;
  return {
    backend: "pagerduty",
    teleport: suite.world.teleport,
    plugin: suite.plugin,
    startPlugin: () => suite.world.startPlugin(),
    request: (overrides = {}) =>
      suite.request({
        systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications"] },
        ...overrides,
      }),
    pluginData: suite.pluginData,
    ledger() {
      const out = new Map<string, Notified[]>();
      for (const i of pd.incidents()) {
        const id = (i.incidentKey ?? "").slice(PREFIX.length);
        const n = { id: i.id, resolved: i.status === "resolved", notes: i.notes.map((x) => x.content) };
        out.set(id, [...(out.get(id) ?? []), n]);
      }
      return out;
    },
    resolveCalls: () => pd.countCalls("PUT", "/incidents/"),
    inject429: (selector, hint) => pd.inject429(selector, hint),
    inject5xx: (selector, status) => pd.inject5xx(selector, status),
    violations: () => pd.violations,
    [Symbol.asyncDispose]: () => suite[Symbol.asyncDispose](),
  };
}

async function alertSuite(api: AlertApi, options: { startPlugin?: boolean }): Promise<BackendSuite> {
  const world = await startOpsgenieWorld(api, {
    advancedAccessWorkflows: true,
    proxyPublicAddr: "teleport.example.com:443",
  });
  const schedule = world.addSchedule("Teleport Notifications");
  for (const reviewer of [PLUGIN_USER, REVIEWER1, REVIEWER2]) {
    world.teleport.setReviewer(reviewer, ["editor"]);
  }
  const plugin = options.startPlugin === false ? undefined! : await world.startPlugin();
  const alerts = world.alerts;
  return {
    backend: api,
    teleport: world.teleport,
    plugin,
    startPlugin: () => world.startPlugin(),
    request: (overrides = {}) =>
      world.teleport.createRequest({
        user: REQUESTER,
        roles: ["editor"],
        reason: "because of",
        systemAnnotations: { "teleport.dev/notify-services": [schedule] },
        ...overrides,
      }),
    pluginData: (id, probe) =>
      eventually(`plugin data of ${id}`, () => {
        const data = world.teleport.pluginData(id, "opsgenie");
        return data && probe(data) ? data : undefined;
      }),
    ledger() {
      const out = new Map<string, Notified[]>();
      // Distinct alerts: a create repeated after an interrupted pass is folded by the API
      // into the open alert with the same alias (its count goes up), which is the
      // idempotency the plugin relies on, not a second alert.
      for (const a of alerts.alerts()) {
        const id = a.alias.slice(PREFIX.length);
        const alert = { id: a.id, resolved: a.status === "closed", notes: a.notes.map((n) => n.note) };
        out.set(id, [...(out.get(id) ?? []), alert]);
      }
      return out;
    },
    resolveCalls: () =>
      alerts.requests.filter((r) => r.method === "POST" && r.path.endsWith("/close")).length,
    inject429: (selector, hint) => alerts.inject429(selector, hint),
    inject5xx: (selector, status) => alerts.inject5xx(selector, status),
    violations: () => alerts.violations,
    [Symbol.asyncDispose]: () => world[Symbol.asyncDispose](),
  };
}
