/**
 * The composition root: connects to Teleport and the program's backend (PagerDuty for
 * teleport-pagerduty; Opsgenie or JSM Operations for teleport-opsgenie), checks both,
 * then runs the access-request lifecycle until the signal aborts.
 */
import { failFastFromEnv } from "./config/env.ts";
import type { OpsgenieProgramConfig } from "./config/opsgenie.ts";
import type { Config, DiagConfig, TeleportConfig } from "./config/types.ts";
import type { Backend } from "./core/backend.ts";
import { AccessRequestPlugin, type WatchExtension } from "./core/plugin.ts";
import { KIND_ACCESS_MONITORING_RULE } from "./core/types.ts";
import { AccessMonitoringRules } from "./rules/access_monitoring_rules.ts";
import { type Readiness, serveHealth } from "./ops/health.ts";
import { getLog } from "./ops/logging.ts";
import { PagerDutyBackend } from "./backends/pagerduty/backend.ts";
import { PagerDutyClient, type PagerDutyClientOptions } from "./backends/pagerduty/client.ts";
import { PagerDutyAuthError } from "./backends/pagerduty/errors.ts";
import { createOpsgenieBackend, type OpsgenieClientOptions } from "./backends/opsgenie/api.ts";
import { OpsgenieAuthError } from "./backends/opsgenie/errors.ts";
import { requestLink } from "./backends/pagerduty/texts.ts";
import { TeleportClient, type TeleportClientOptions } from "./teleport/client.ts";

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
  opsgenieOptions?: OpsgenieClientOptions;
  plugin?: Partial<Pick<ConstructorParameters<typeof AccessRequestPlugin>[0], "leaseTtlMs" | "retryBackoff">>;
}

/** What a program plugs into the lifecycle: its backend, and how to tell and release it. */
export interface BackendSetup {
  backend: Backend;
  /** "PagerDuty", "Opsgenie", "JSM Operations": for logs and messages. */
  product: string;
  /** The setting to check when the backend refuses the credentials. */
  credentialKey: string;
  isAuthError(error: unknown): boolean;
  close(): void;
}

/** teleport-pagerduty. */
export function runPlugin(config: Config, opts: RunOptions): Promise<void> {
  const pagerduty = new PagerDutyClient(config.pagerduty, opts.pagerdutyOptions);
  return runBackend(config, {
    backend: new PagerDutyBackend(pagerduty, config.pagerduty.requestAnnotations),
    product: "PagerDuty",
    credentialKey: "pagerduty.api_key",
    isAuthError: (error) => error instanceof PagerDutyAuthError,
    close: () => pagerduty.close(),
  }, opts);
}

/** teleport-opsgenie, on Opsgenie's API or on JSM Operations' (`api = "jsm"`). */
export function runOpsgenie(config: OpsgenieProgramConfig, opts: RunOptions): Promise<void> {
  const og = config.opsgenie;
  const backend = createOpsgenieBackend(og, {
    defaultSchedules: og.defaultSchedules,
    defaultTeams: og.defaultTeams,
    tags: og.alertTags,
    priority: og.priority,
  }, opts.opsgenieOptions);
  const jsm = og.api === "jsm";
  return runBackend(config, {
    backend,
    product: jsm ? "JSM Operations" : "Opsgenie",
    credentialKey: jsm ? "opsgenie.user_email and opsgenie.api_token" : "opsgenie.api_key",
    isAuthError: (error) => error instanceof OpsgenieAuthError,
    close: () => backend[Symbol.dispose](),
  }, opts);
}

/** The lifecycle every program shares, around one backend. */
export async function runBackend(
  config: { teleport: TeleportConfig; diag: DiagConfig },
  setup: BackendSetup,
  opts: RunOptions,
): Promise<void> {
  const log = getLog("core");
  log.info(`Starting Teleport Access ${setup.product} Plugin`);
  const failFast = failFastFromEnv();
  const teleport = TeleportClient.connect(config.teleport, {
    ...opts.teleportOptions,
    watcherTiming: { failFast, ...opts.teleportOptions?.watcherTiming },
  });
  const { backend } = setup;
  let plugin: AccessRequestPlugin | undefined;
  let rules: AccessMonitoringRules | undefined;
  await using _health = config.diag.addr
    ? serveHealth(config.diag.addr, () => readinessOf(setup.product, plugin, rules))
    : undefined;
  try {
    log.debug("Checking Teleport server version");
    const pong = await withDeadline(teleport.ping(), "connecting to Teleport and checking its version");
    await checkBackend(setup);
    const proxy = pong.advancedAccessWorkflows ? pong.proxyPublicAddr : "";
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
    setup.close();
  }
}

function readinessOf(
  product: string,
  plugin: AccessRequestPlugin | undefined,
  rules?: AccessMonitoringRules,
): Readiness {
  if (!plugin) return { ready: false, reason: `starting: checking Teleport and ${product}` };
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
 * backend is not: requests are kept and retried until it is back.
 */
async function checkBackend(setup: BackendSetup): Promise<void> {
  const log = getLog("core");
  log.debug(`Starting ${setup.product} API health check...`);
  try {
    await withDeadline(
      setup.backend.healthCheck(AbortSignal.timeout(INIT_TIMEOUT_MS)),
      `checking the ${setup.product} API`,
    );
    log.debug(`${setup.product} API health check finished ok`);
  } catch (error) {
    if (setup.isAuthError(error)) {
      throw new Error(`api health check failed, check ${setup.credentialKey}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    log.warn(`${setup.product} API health check failed, continuing: requests will be retried: {error}`, {
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
