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
import { PagerDutyAuthError, PagerDutyError } from "./backends/pagerduty/errors.ts";
import { createOpsgenieBackend, type OpsgenieClientOptions } from "./backends/opsgenie/api.ts";
import { OpsgenieAuthError } from "./backends/opsgenie/errors.ts";
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
  opsgenieOptions?: OpsgenieClientOptions;
  plugin?: Partial<Pick<ConstructorParameters<typeof AccessRequestPlugin>[0], "leaseTtlMs" | "retryBackoff">>;
  /** Hooks of the review server ([review]; tests). */
  review?: ReviewHooks;
}

type Pong = Awaited<ReturnType<TeleportClient["ping"]>>;

/** What a program plugs into the lifecycle: its backend, its start-up check, its extras. */
export interface BackendSetup {
  backend: Backend;
  /** "PagerDuty", "Opsgenie", "JSM Operations": for logs and messages. */
  product: string;
  /** Checks the API at start: throws when the credentials are refused, warns otherwise. */
  check(): Promise<void>;
  /** Starts what the program runs beside the lifecycle (teleport-pagerduty: the review server). */
  extras?(teleport: TeleportClient, pong: Pong): Promise<AsyncDisposable | undefined>;
  close(): void;
}

/** teleport-pagerduty. */
export function runPlugin(config: Config, opts: RunOptions): Promise<void> {
  const pagerduty = new PagerDutyClient(config.pagerduty, opts.pagerdutyOptions);
  return runBackend(config, {
    backend: new PagerDutyBackend(pagerduty, config.pagerduty.requestAnnotations),
    product: "PagerDuty",
    check: () => checkPagerDuty(pagerduty),
    // ---- reviews from PagerDuty: [review], off by default (src/review) ----
    extras: async (teleport, pong) =>
      config.review?.enabled
        ? await startReviews(config, {
          teleport,
          incidents: pagerduty,
          serverVersion: pong.serverVersion,
          instanceId: opts.instanceId,
        }, opts.review)
        : undefined,
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
  const product = og.api === "jsm" ? "JSM Operations" : "Opsgenie";
  return runBackend(config, {
    backend,
    product,
    check: () =>
      checkApi({
        product,
        endpoint: og.apiEndpoint,
        healthCheck: (signal) => backend.healthCheck(signal),
        refused: (error) =>
          error instanceof OpsgenieAuthError
            ? (og.api === "jsm" ? "opsgenie.user_email and opsgenie.api_token" : "opsgenie.api_key")
            : undefined,
        hint: () => "opsgenie.api_endpoint",
      }),
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
    await setup.check();
    await using _extras = await setup.extras?.(teleport, pong);
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

/** What the start-up check of one API needs to know. */
export interface ApiCheck {
  product: string;
  endpoint: string;
  healthCheck(signal: AbortSignal): Promise<void>;
  /** The setting to fix when `error` is a refusal of the credentials, else undefined. */
  refused(error: unknown): string | undefined;
  /** The setting to check for any other failure. */
  hint(error: unknown): string;
}

/**
 * Bad credentials are fatal, as in the Go plugin. An unreachable or failing API is
 * not: requests are kept and retried until it is back. Either way the message names
 * the endpoint and the cause (refused, DNS, TLS, timeout, HTTP status), and the check
 * stops at its deadline instead of retrying in the background.
 */
export async function checkApi(check: ApiCheck, deadlineMs = INIT_TIMEOUT_MS): Promise<void> {
  const log = getLog("core");
  log.debug(`Starting ${check.product} API health check...`, { endpoint: check.endpoint });
  try {
    await withDeadline(
      (signal) => check.healthCheck(signal),
      `checking the ${check.product} API`,
      deadlineMs,
    );
    log.debug(`${check.product} API health check finished ok`);
  } catch (error) {
    const key = check.refused(error);
    if (key !== undefined) {
      throw new Error(`api health check failed, check ${key}: ${(error as Error).message}`, { cause: error });
    }
    log.warn(
      `${check.product} API health check failed, continuing (requests will be retried; check {key}): {error}`,
      {
        endpoint: check.endpoint,
        key: check.hint(error),
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }
}

/** PagerDuty's start-up check: a refused key is fatal; a TLS failure points at `ca_file`. */
export function checkPagerDuty(pagerduty: PagerDutyClient, deadlineMs = INIT_TIMEOUT_MS): Promise<void> {
  return checkApi({
    product: "PagerDuty",
    endpoint: pagerduty.endpoint,
    healthCheck: (signal) => pagerduty.healthCheck({ signal }),
    refused: (error) => error instanceof PagerDutyAuthError ? "pagerduty.api_key" : undefined,
    hint: (error) =>
      error instanceof PagerDutyError && error.networkCause === "tls"
        ? "pagerduty.ca_file"
        : "pagerduty.api_endpoint",
  }, deadlineMs);
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
