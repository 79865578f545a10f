/**
 * The composition root: connects to Teleport and PagerDuty, checks both, then runs
 * the access-request lifecycle until the signal aborts.
 */
import { failFastFromEnv } from "./config/env.ts";
import type { Config } from "./config/types.ts";
import { AccessRequestPlugin, type WatchExtension } from "./core/plugin.ts";
import { KIND_ACCESS_MONITORING_RULE } from "./core/types.ts";
import { AccessMonitoringRules } from "./rules/access_monitoring_rules.ts";
import { type Readiness, serveHealth } from "./ops/health.ts";
import { getLog } from "./ops/logging.ts";
import { PagerDutyBackend } from "./backends/pagerduty/backend.ts";
import { PagerDutyClient, type PagerDutyClientOptions } from "./backends/pagerduty/client.ts";
import { PagerDutyAuthError } from "./backends/pagerduty/errors.ts";
import { requestLink } from "./backends/pagerduty/texts.ts";
import { TeleportClient, type TeleportClientOptions } from "./teleport/client.ts";
import { type ReviewHooks, startReviews } from "./review/start.ts";

/** The Go plugin's budget for connecting, the version check and the health check. */
const INIT_TIMEOUT_MS = 10_000;

export interface RunOptions {
  signal: AbortSignal;
  /** Called once the watch is live (tests, the demo, health reporting). */
  onReady?: (plugin: AccessRequestPlugin) => void;
  /** Lease owner name; unique per process by default. */
  instanceId?: string;
  /** Tuning for tests and benchmarks. */
  teleportOptions?: TeleportClientOptions;
  pagerdutyOptions?: PagerDutyClientOptions;
  plugin?: Partial<Pick<ConstructorParameters<typeof AccessRequestPlugin>[0], "leaseTtlMs" | "retryBackoff">>;
  /** Hooks of the review server ([review]; tests). */
  review?: ReviewHooks;
}

export async function runPlugin(config: Config, opts: RunOptions): Promise<void> {
  const log = getLog("core");
  log.info("Starting Teleport Access PagerDuty Plugin");
  const failFast = failFastFromEnv();
  const teleport = TeleportClient.connect(config.teleport, {
    ...opts.teleportOptions,
    watcherTiming: { failFast, ...opts.teleportOptions?.watcherTiming },
  });
  const pagerduty = new PagerDutyClient(config.pagerduty, opts.pagerdutyOptions);
  let plugin: AccessRequestPlugin | undefined;
  let rules: AccessMonitoringRules | undefined;
  await using _health = config.diag.addr
    ? serveHealth(config.diag.addr, () => readinessOf(plugin, rules))
    : undefined;
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
    rules = new AccessMonitoringRules({ pluginName: backend.pluginName, source: teleport });
    plugin = new AccessRequestPlugin({
      teleport,
      backend,
      rules,
      extension: rulesWatch(rules),
      instanceId: opts.instanceId ?? `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`,
      requestLink: (id) => proxy ? requestLink(proxy, id) : undefined,
      ...opts.plugin,
    });
    const started = plugin;
    started.ready.then(() => {
      log.info("Plugin is ready", { cluster_name: pong.clusterName, teleport_version: pong.serverVersion });
      opts.onReady?.(started);
    });
    await started.run(opts.signal);
  } finally {
    rules?.close();
    teleport.close();
    pagerduty.close();
  }
}

function readinessOf(plugin: AccessRequestPlugin | undefined, rules?: AccessMonitoringRules): Readiness {
  if (!plugin) return { ready: false, reason: "starting: checking Teleport and PagerDuty" };
  const health = plugin.health();
  const problems = rules?.problems() ?? [];
  return { ready: health.watching, ...health, ...(problems.length > 0 ? { rules: problems } : {}) };
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
 * PagerDuty is not: requests are kept and retried until it is back.
 */
async function checkPagerDuty(pagerduty: PagerDutyClient): Promise<void> {
  const log = getLog("core");
  log.debug("Starting PagerDuty API health check...");
  try {
    await withDeadline(pagerduty.healthCheck(), "checking the PagerDuty API");
    log.debug("PagerDuty API health check finished ok");
  } catch (error) {
    if (error instanceof PagerDutyAuthError) {
      throw new Error(`api health check failed, check pagerduty.api_key: ${error.message}`, { cause: error });
    }
    log.warn("PagerDuty API health check failed, continuing: requests will be retried: {error}", {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

function withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${INIT_TIMEOUT_MS / 1000}s ${what}`)),
      INIT_TIMEOUT_MS,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
