/**
 * The composition root: connects to Teleport and PagerDuty, checks both, then runs
 * the access-request lifecycle until the signal aborts. A reloaded configuration that
 * changes the backend, the annotations, auto-approval or Teleport starts a new
 * generation: the running passes are cancelled (their progress recorded), the clients
 * are rebuilt with the new settings, and the new watch resyncs, so no work is dropped.
 */
import { failFastFromEnv } from "./config/env.ts";
import type { Config } from "./config/types.ts";
import { AccessRequestPlugin, type WatchExtension } from "./core/plugin.ts";
import { KIND_ACCESS_MONITORING_RULE } from "./core/types.ts";
import { AccessMonitoringRules } from "./rules/access_monitoring_rules.ts";
import { problemsComponent } from "./ops/diag/readiness.ts";
import { getLog } from "./ops/logging.ts";
import { type Operations, startOperations } from "./ops/operations.ts";
import type { ConfigReloader } from "./ops/reload.ts";
import { planReload } from "./ops/reload_plan.ts";
import { PagerDutyBackend } from "./backends/pagerduty/backend.ts";
import { PagerDutyClient, type PagerDutyClientOptions } from "./backends/pagerduty/client.ts";
import { PagerDutyAuthError, PagerDutyError } from "./backends/pagerduty/errors.ts";
import { requestLink } from "./backends/pagerduty/texts.ts";
import { TeleportClient, type TeleportClientOptions } from "./teleport/client.ts";
import { type ReviewHooks, startReviews } from "./review/start.ts";

/** The Go plugin's budget for connecting, the version check and the health check. */
const INIT_TIMEOUT_MS = 10_000;

export interface RunOptions {
  signal: AbortSignal;
  /** Called once the watch is live (tests, the demo, health reporting); again after a reload reconnects. */
  onReady?: (plugin: AccessRequestPlugin) => void;
  /** Lease owner name; unique per process by default. */
  instanceId?: string;
  /** Tuning for tests and benchmarks. */
  teleportOptions?: TeleportClientOptions;
  pagerdutyOptions?: PagerDutyClientOptions;
  plugin?: Partial<
    Pick<ConstructorParameters<typeof AccessRequestPlugin>[0], "leaseTtlMs" | "retryBackoff" | "passBudgetMs">
  >;
  /** Hooks of the review server ([review]; tests). */
  review?: ReviewHooks;
  /** Reloads the configuration on SIGHUP (the CLI's); what changed is applied here. */
  reloader?: ConfigReloader;
}

/** Runs the plugin until `opts.signal` aborts; a reload that needs new clients starts a new generation. */
export async function runPlugin(config: Config, opts: RunOptions): Promise<void> {
  const log = getLog("core");
  log.info("Starting Teleport Access PagerDuty Plugin");
  await using ops = await startOperations(config, { plugin: "pagerduty", reloader: opts.reloader });
  const instanceId = opts.instanceId ?? `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  let current = config;
  let generation = new AbortController();
  let teleport = connectTeleport(config, opts);
  opts.reloader?.onApply((next, previous) => {
    const plan = planReload(previous, next);
    if (plan.diagRestartNeeded) log.warn("[diag] addr changes take effect at the next start");
    if (!(plan.backend || plan.annotations || plan.autoApproval || plan.teleport)) return;
    log.info("Configuration reloaded ({changed}): restarting the controller with the new settings", {
      changed: plan.changed.join(", "),
    });
    if (plan.teleport) {
      // A new connection only when Teleport's settings changed: the watch resyncs on it.
      teleport.close();
      teleport = connectTeleport(next, opts);
    }
    current = next;
    generation.abort();
  });
  try {
    while (!opts.signal.aborted) {
      generation = new AbortController();
      const signal = AbortSignal.any([opts.signal, generation.signal]);
      await runGeneration(current, teleport, { ...opts, instanceId, signal }, ops);
      if (!generation.signal.aborted) return;
    }
  } finally {
    teleport.close();
  }
}

function connectTeleport(config: Config, opts: RunOptions): TeleportClient {
  return TeleportClient.connect(config.teleport, {
    ...opts.teleportOptions,
    watcherTiming: { failFast: failFastFromEnv(), ...opts.teleportOptions?.watcherTiming },
  });
}

/** One backend client and one controller on `teleport`, until `opts.signal` aborts. */
async function runGeneration(
  config: Config,
  teleport: TeleportClient,
  opts: RunOptions & { instanceId: string },
  ops: Operations,
) {
  const log = getLog("core");
  const pagerduty = new PagerDutyClient(config.pagerduty, {
    ...opts.pagerdutyOptions,
    observe: ops.observeUpstream,
    onRateLimitWait: (source, seconds) => ops.metrics.rateLimitWait(source, seconds),
  });
  let rules: AccessMonitoringRules | undefined;
  try {
    log.debug("Checking Teleport server version");
    const pong = await withDeadline(teleport.ping(), "connecting to Teleport and checking its version");
    await checkPagerDuty(pagerduty);
    // ---- reviews from PagerDuty: [review], off by default (src/review) ----
    await using _reviews = config.review?.enabled
      ? await startReviews(config, {
        teleport,
        incidents: pagerduty,
        serverVersion: pong.serverVersion,
        instanceId: opts.instanceId,
      }, opts.review)
      : undefined;
    const proxy = pong.advancedAccessWorkflows ? pong.proxyPublicAddr : "";
    const backend = new PagerDutyBackend(pagerduty, config.pagerduty.requestAnnotations);
    const routing = new AccessMonitoringRules({ pluginName: backend.pluginName, source: teleport });
    rules = routing;
    const plugin = new AccessRequestPlugin({
      teleport,
      backend,
      rules: routing,
      extension: rulesWatch(routing),
      instanceId: opts.instanceId,
      requestLink: (id) => proxy ? requestLink(proxy, id) : undefined,
      autoApproval: config.pagerduty.autoApproval,
      telemetry: ops.telemetry,
      ...opts.plugin,
    });
    ops.provide({
      stats: () => plugin.queueStats(),
      health: () => plugin.health(),
      rulesCache: problemsComponent(() => routing.problems()),
    });
    plugin.ready.then(() => {
      log.info("Plugin is ready", { cluster_name: pong.clusterName, teleport_version: pong.serverVersion });
      opts.onReady?.(plugin);
    });
    await plugin.run(opts.signal);
  } finally {
    rules?.close();
    pagerduty.close();
  }
}

/** Access Monitoring Rules ride on the plugin's watch: re-listed at every connect, updated by events. */
function rulesWatch(rules: AccessMonitoringRules): WatchExtension {
  return {
    kinds: [KIND_ACCESS_MONITORING_RULE],
    onInit: (confirmedKinds, signal) => rules.onInit(confirmedKinds, signal),
    onEvent: (event) => void rules.handleEvent(event),
  };
}

/**
 * Bad credentials are fatal, as in the Go plugin. An unreachable or failing
 * PagerDuty is not: requests are kept and retried until it is back. Either way the
 * message names the endpoint and the cause (refused, DNS, TLS, timeout, HTTP status),
 * and the check stops at its deadline instead of retrying in the background.
 */
export async function checkPagerDuty(
  pagerduty: PagerDutyClient,
  deadlineMs = INIT_TIMEOUT_MS,
): Promise<void> {
  const log = getLog("core");
  log.debug("Starting PagerDuty API health check...", { endpoint: pagerduty.endpoint });
  try {
    await withDeadline(
      (signal) => pagerduty.healthCheck({ signal }),
      "checking the PagerDuty API",
      deadlineMs,
    );
    log.debug("PagerDuty API health check finished ok");
  } catch (error) {
    if (error instanceof PagerDutyAuthError) {
      throw new Error(`api health check failed, check pagerduty.api_key: ${error.message}`, { cause: error });
    }
    const tls = error instanceof PagerDutyError && error.networkCause === "tls";
    log.warn(
      "PagerDuty API health check failed, continuing (requests will be retried; check {key}): {error}",
      {
        endpoint: pagerduty.endpoint,
        key: tls ? "pagerduty.ca_file" : "pagerduty.api_endpoint",
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }
}

/**
 * Runs `work` for at most `deadlineMs`. A function gets a signal that aborts at the
 * deadline, so the work stops then (it does not keep retrying in the background); a
 * bare promise is only raced, for work that cannot be cancelled.
 */
function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  what: string,
  deadlineMs = INIT_TIMEOUT_MS,
): Promise<T> {
  const timedOut = () => new Error(`timed out after ${deadlineMs / 1000}s ${what}`);
  if (typeof work === "function") {
    const signal = AbortSignal.timeout(deadlineMs);
    // Work that honours the signal explains the timeout itself (endpoint, last failure);
    // a bare abort reason gets the generic sentence.
    return work(signal).catch((error) => {
      throw error === signal.reason ? timedOut() : error;
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), deadlineMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
