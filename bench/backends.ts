/**
 * The backends the process-based benches drive, behind one adapter: which API double
 * answers, which program, permission set and config the plugin processes run, and how
 * the bench reads back what the plugin wrote (each incident or alert with its notes and
 * whether it is closed). bench/faults.ts and bench/burst.ts take `--backend pagerduty|opsgenie`.
 */
import { incidentKey } from "../src/backends/pagerduty/client.ts";
import { alertAlias } from "../src/backends/opsgenie/texts.ts";
import type { HttpApiDouble } from "../src/doubles/http_api_double.ts";
import type { RecordedRequest } from "../src/doubles/http_double.ts";
import { OpsgenieDouble } from "../src/doubles/opsgenie_double.ts";
import { startOpsgenieWorld } from "../src/doubles/opsgenie_world.ts";
import type { NewRequest, TeleportDouble } from "../src/doubles/teleport_double.ts";
import { PLUGIN_USER, type RunningPlugin, type World } from "../src/doubles/world.ts";
import {
  NOTIFY_SERVICE,
  OPSGENIE_COMMAND,
  PAGERDUTY_COMMAND,
  type PluginCommand,
  type ProcessConfigOptions,
  REVIEWER,
  REVIEWER2,
  startBenchWorld,
  writeOpsgenieProcessConfig,
  writeProcessConfig,
} from "./lib.ts";

/** What an in-process instance may override of the world's quick timings. */
export type PluginOptions = Parameters<World["startPlugin"]>[0];

export const BACKENDS = ["pagerduty", "opsgenie"] as const;
export type BackendName = typeof BACKENDS[number];

/** One incident (PagerDuty) or alert (Opsgenie) as the bench checks it. */
export interface BackendRecord {
  notes: string[];
  closed: boolean;
}

export interface BenchBackend extends AsyncDisposable {
  name: BackendName;
  /** What the plugin opens per request: "incident" or "alert". */
  noun: string;
  teleport: TeleportDouble;
  /** The API double: its request log and its fault hooks (429 storms, 5xx outages). */
  api: HttpApiDouble;
  /** The release command line of the plugin processes. */
  command: PluginCommand;
  /** Writes the plugin processes' TOML config and returns its path. */
  writeConfig(name: string, options?: ProcessConfigOptions): Promise<string>;
  /** Creates a pending request that asks for a notification only (no auto-approval). */
  notifyRequest(overrides?: Partial<NewRequest>): string;
  /** Every incident or alert the plugin opened, by the key `keyOf` gives a request id. */
  records(): Map<string, BackendRecord[]>;
  keyOf(requestId: string): string;
  /** Backend-specific figures for the report. */
  extraFigures(): Record<string, number>;
  /** The plugin data namespace the plugin keeps its state under. */
  pluginName: string;
  /** Starts a plugin instance in process (the world's quick timings, but for `options`). */
  startPlugin(options?: PluginOptions): Promise<RunningPlugin>;
  /** Sets the client-side limit of instances started from now on. */
  setClientRateLimit(perMinute: number): void;
  /** Whether a recorded API call is an accepted create of an incident or alert. */
  isCreate(r: RecordedRequest): boolean;
  /** API calls the plugin makes to open one notify-only incident or alert. */
  callsPerCreate: number;
}

/** Starts the doubles of `name` with the fixtures the benches need. */
export async function startBackend(name: BackendName): Promise<BenchBackend> {
  return name === "pagerduty" ? await pagerduty() : await opsgenie();
}

/** Parses `--backend NAME` (default pagerduty); throws one line naming a wrong value. */
export function backendArg(args: readonly string[] = Deno.args): BackendName {
  const i = args.indexOf("--backend");
  if (i < 0) return "pagerduty";
  const value = args[i + 1];
  if (!(BACKENDS as readonly string[]).includes(value)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(", ")}, not ${JSON.stringify(value)}`);
  }
  return value as BackendName;
}

async function pagerduty(): Promise<BenchBackend> {
  const bench = await startBenchWorld();
  const { world } = bench;
  return {
    name: "pagerduty",
    noun: "incident",
    teleport: world.teleport,
    api: world.pagerduty,
    command: PAGERDUTY_COMMAND,
    writeConfig: (name, options) => writeProcessConfig(world, name, options),
    notifyRequest: (overrides) => bench.notifyRequest(overrides),
    records: () =>
      new Map(
        [...Map.groupBy(world.pagerduty.incidents(), (i) => i.incidentKey ?? "")].map(([key, incidents]) => [
          key,
          incidents.map((i) => ({ notes: i.notes.map((n) => n.content), closed: i.status === "resolved" })),
        ]),
      ),
    keyOf: incidentKey,
    extraFigures: () => ({}),
    pluginName: "pagerduty",
    startPlugin: (options) => world.startPlugin(options),
    setClientRateLimit: (perMinute) => world.config.pagerduty.rateLimitPerMinute = perMinute,
    isCreate: (r) => r.method === "POST" && r.path === "/incidents" && r.status === 201,
    callsPerCreate: 1,
    [Symbol.asyncDispose]: () => bench[Symbol.asyncDispose](),
  };
}

async function opsgenie(): Promise<BenchBackend> {
  const world = await startOpsgenieWorld("opsgenie");
  const og = world.alerts as OpsgenieDouble;
  if (!(og instanceof OpsgenieDouble)) throw new Error("the Opsgenie world has no Opsgenie double");
  const schedule = world.addSchedule(NOTIFY_SERVICE);
  for (const reviewer of [PLUGIN_USER, REVIEWER, REVIEWER2]) world.teleport.setReviewer(reviewer, ["*"]);
  const alerts = () => og.alerts();
  return {
    name: "opsgenie",
    noun: "alert",
    teleport: world.teleport,
    api: og,
    command: OPSGENIE_COMMAND,
    writeConfig: (name, options) => writeOpsgenieProcessConfig(world, name, og.apiKey, options),
    notifyRequest: (overrides = {}) =>
      world.teleport.createRequest({
        user: "requester@example.com",
        roles: ["editor"],
        reason: "bench",
        systemAnnotations: { "teleport.dev/notify-services": [schedule] },
        ...overrides,
      }),
    records: () =>
      new Map(
        [...Map.groupBy(alerts(), (a) => a.alias)].map(([alias, list]) => [
          alias,
          list.map((a) => ({ notes: a.notes.map((n) => n.note), closed: a.status === "closed" })),
        ]),
      ),
    keyOf: alertAlias,
    // A create repeated after an interrupted pass, folded by Opsgenie into the open alert (same alias).
    extraFigures: () => ({ creates_folded_by_alias: alerts().filter((a) => a.count > 1).length }),
    pluginName: "opsgenie",
    startPlugin: (options) => world.startPlugin(options),
    setClientRateLimit: (perMinute) => world.config.opsgenie.rateLimitPerMinute = perMinute,
    isCreate: (r) => r.method === "POST" && r.path === "/v2/alerts" && r.status === 202,
    // The create, then one read of its request status (Opsgenie processes writes asynchronously).
    callsPerCreate: 2,
    [Symbol.asyncDispose]: () => world[Symbol.asyncDispose](),
  };
}
