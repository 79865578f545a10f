/**
 * Everything an operator observes, in one place for the composition root: the
 * metrics registry, the readiness components, the diagnostics server and the
 * configuration reloader. Backend-neutral: every backend program starts one.
 *
 * Wiring in the composition root (run.ts):
 *   await using ops = await startOperations(config, { plugin: "pagerduty", reloader: opts.reloader });
 *   core:       new AccessRequestPlugin({ …, telemetry: ops.telemetry, autoApproval: config.pagerduty.autoApproval })
 *   transport:  observer = ops.observeUpstream; limiter waits: ops.metrics.rateLimitWait(source, seconds)
 *   once built: ops.provide({ stats: () => plugin.queueStats(), health: () => plugin.health(),
 *                             rulesCache: problemsComponent(() => rules.problems()) })
 *   reloads:    opts.reloader?.onApply((next, previous) => … planReload(previous, next) …)
 */
import type { Config } from "../config/types.ts";
import type { CoreTelemetry } from "../core/telemetry.ts";
import { GIT_REF, VERSION } from "../version.ts";
import { IdentityExpiry } from "./diag/identity.ts";
import type { ComponentProbe, ComponentStatus } from "./diag/readiness.ts";
import { type DiagOptions, type DiagServer, serveDiag } from "./diag/server.ts";
import { UpstreamHealth } from "./diag/upstream_health.ts";
import { PluginMetrics, type QueueStats, type UpstreamStatus } from "./metrics/registry.ts";
import type { ReloadHooks } from "./reload.ts";

/** The readiness component names (stable: monitors and `/readyz/{name}` use them). */
export const COMPONENTS = {
  watch: "teleport_watch",
  backend: "backend_api",
  identity: "identity",
  rulesCache: "rules_cache",
  reload: "last_reload",
} as const;

/** What the controller exposes (read at probe/scrape time). */
export interface ControllerProbes {
  stats?: () => QueueStats;
  health?: () => { watching: boolean; reason?: string };
  /** The Access Monitoring Rules cache, when the backend uses one. */
  rulesCache?: ComponentProbe;
}

export interface OperationsOptions {
  /** The `plugin` label and backend name: "pagerduty", "opsgenie". */
  plugin: string;
  reloader?: ReloadHooks<unknown>;
  /** Tests pass a fixed identity reading. */
  identity?: IdentityExpiry;
  /** Snapshot timing of the diagnostics server. */
  diag?: DiagOptions;
}

export interface Operations extends AsyncDisposable {
  metrics: PluginMetrics;
  /** Hand this to the core. */
  telemetry: CoreTelemetry;
  /** Hand this to the backend's REST transport: one call per HTTP exchange. */
  observeUpstream: (operation: string, status: UpstreamStatus, seconds: number) => void;
  /** Adds the controller's probes once it exists. */
  provide(probes: ControllerProbes): void;
  /** Readiness components (for tests and for `check`). */
  components: ReadonlyMap<string, ComponentProbe>;
  /** The diagnostics port, when `[diag] addr` is set. */
  diagPort?: number;
  /** Hands the diagnostics server a fresh snapshot now (it also gets one every second). */
  publish(): Promise<void>;
}

/** Creates the registry and probes and, when `[diag] addr` is set, starts the diagnostics server. */
export async function startOperations(
  config: Pick<Config, "teleport" | "diag">,
  options: OperationsOptions,
): Promise<Operations> {
  const identity = options.identity ?? IdentityExpiry.watch(config.teleport);
  const upstream = new UpstreamHealth(options.plugin);
  const probes: ControllerProbes = {};
  const metrics = new PluginMetrics(
    { plugin: options.plugin, version: VERSION, gitRef: GIT_REF },
    { identityNotAfter: () => identity.notAfter() },
  );
  options.reloader?.observe((outcome) => metrics.reloaded(outcome.result));

  const components = new Map<string, ComponentProbe>([
    [COMPONENTS.watch, () => watchStatus(probes)],
    [COMPONENTS.backend, () => upstream.status()],
    [COMPONENTS.identity, () => identity.status()],
    [COMPONENTS.rulesCache, () => probes.rulesCache?.() ?? { status: "healthy", enabled: false }],
    [COMPONENTS.reload, () => options.reloader?.status() ?? { status: "healthy" }],
  ]);
  const server: DiagServer | undefined = config.diag.addr
    ? await serveDiag(config.diag.addr, {
      components,
      metrics: async () => ({ body: await metrics.render(), contentType: metrics.contentType }),
    }, options.diag)
    : undefined;

  return {
    metrics,
    telemetry: metrics,
    observeUpstream: (operation, status, seconds) => {
      metrics.observeUpstream(operation, status, seconds);
      upstream.observe(operation, status, seconds);
    },
    provide(next) {
      Object.assign(probes, next);
      metrics.provide({ stats: probes.stats, watching: () => probes.health?.().watching ?? false });
    },
    components,
    diagPort: server?.port,
    publish: () => server?.publish() ?? Promise.resolve(),
    async [Symbol.asyncDispose]() {
      identity[Symbol.dispose]();
      await server?.[Symbol.asyncDispose]();
    },
  };
}

function watchStatus(probes: ControllerProbes): ComponentStatus {
  if (!probes.health) return { status: "unhealthy", reason: "starting: checking Teleport and the backend" };
  const health = probes.health();
  return health.watching
    ? { status: "healthy" }
    : { status: "unhealthy", reason: health.reason ?? "the Teleport watch is down" };
}
