/**
 * The composition root: connects to Teleport and PagerDuty, checks both, then runs
 * the access-request lifecycle until the signal aborts.
 */
import { failFastFromEnv } from "./config/env.ts";
import type { Config } from "./config/types.ts";
import { AccessRequestPlugin } from "./core/plugin.ts";
import { type Readiness, serveHealth } from "./ops/health.ts";
import { getLog } from "./ops/logging.ts";
import { PagerDutyBackend } from "./backends/pagerduty/backend.ts";
import { PagerDutyClient, type PagerDutyClientOptions } from "./backends/pagerduty/client.ts";
import { PagerDutyAuthError } from "./backends/pagerduty/errors.ts";
import { requestLink } from "./backends/pagerduty/texts.ts";
import { TeleportClient, type TeleportClientOptions } from "./teleport/client.ts";
import { pingUntilReachable } from "./teleport/startup.ts";

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
  await using _health = config.diag.addr
    ? serveHealth(config.diag.addr, () => readinessOf(plugin))
    : undefined;
  try {
    log.debug("Checking Teleport server version");
    const pong = await pingUntilReachable(teleport, { failFast, signal: opts.signal });
    await checkPagerDuty(pagerduty);
    const proxy = pong.advancedAccessWorkflows ? pong.proxyPublicAddr : "";
    plugin = new AccessRequestPlugin({
      teleport,
      backend: new PagerDutyBackend(pagerduty, config.pagerduty.requestAnnotations),
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
    teleport.close();
    pagerduty.close();
  }
}

function readinessOf(plugin: AccessRequestPlugin | undefined): Readiness {
  if (!plugin) return { ready: false, reason: "starting: checking Teleport and PagerDuty" };
  const health = plugin.health();
  return { ready: health.watching, ...health };
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
