/**
 * The composition root: connects to Teleport and the program's backend (PagerDuty for
 * teleport-pagerduty; Opsgenie or JSM Operations for teleport-opsgenie), checks both,
 * then runs the access-request lifecycle until the signal aborts. A reloaded configuration that
 * changes the backend, the annotations, auto-approval or Teleport starts a new
 * generation: the running passes are cancelled (their progress recorded), the clients
 * are rebuilt with the new settings, and the new watch resyncs, so no work is dropped.
 */
import { failFastFromEnv } from "./config/env.ts";
import type { OpsgenieProgramConfig } from "./config/opsgenie.ts";
import type { AutoApprovalMode, Config, DiagConfig, TeleportConfig } from "./config/types.ts";
import type { Backend } from "./core/backend.ts";
import { AccessRequestPlugin, type WatchExtension } from "./core/plugin.ts";
import { KIND_ACCESS_MONITORING_RULE } from "./core/types.ts";
import { AccessMonitoringRules } from "./rules/access_monitoring_rules.ts";
import { problemsComponent } from "./ops/diag/readiness.ts";
import { getLog } from "./ops/logging.ts";
import { type Operations, startOperations } from "./ops/operations.ts";
import type { ReloadHooks } from "./ops/reload.ts";
import { planOpsgenieReload, planReload, type ReloadPlan } from "./ops/reload_plan.ts";
import { PagerDutyBackend } from "./backends/pagerduty/backend.ts";
import { PagerDutyClient, type PagerDutyClientOptions } from "./backends/pagerduty/client.ts";
import { PagerDutyAuthError, PagerDutyError } from "./backends/pagerduty/errors.ts";
import { createOpsgenieBackend, type OpsgenieClientOptions } from "./backends/opsgenie/api.ts";
import { OpsgenieAuthError } from "./backends/opsgenie/errors.ts";
import { requestLink } from "./backends/pagerduty/texts.ts";
import { TeleportClient, type TeleportClientOptions } from "./teleport/client.ts";
import { type ReviewHooks, startReviews } from "./review/start.ts";
import { pingUntilReachable } from "./teleport/startup.ts";

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
  opsgenieOptions?: OpsgenieClientOptions;
  plugin?: Partial<
    Pick<ConstructorParameters<typeof AccessRequestPlugin>[0], "leaseTtlMs" | "retryBackoff" | "passBudgetMs">
  >;
  /** Hooks of the review server ([review]; tests). */
  review?: ReviewHooks;
  /** Reloads the configuration on SIGHUP (the CLI's); what changed is applied here. */
  reloader?: ReloadHooks<unknown>;
}

/** The sections every program's configuration has. */
type ProgramConfig = { teleport: TeleportConfig; diag: DiagConfig };
type Pong = Awaited<ReturnType<TeleportClient["ping"]>>;

/** What one generation plugs into the lifecycle: its backend, its start-up check, its extras. */
export interface BackendSetup {
  backend: Backend;
  autoApproval: AutoApprovalMode;
  /** Passes in flight at once (`max_concurrent_requests`). */
  concurrency: number;
  /** Checks the API at start: throws when the credentials are refused, warns otherwise. */
  check(): Promise<void>;
  /** Starts what the program runs beside the lifecycle (teleport-pagerduty: the review server). */
  extras?(teleport: TeleportClient, pong: Pong): Promise<AsyncDisposable | undefined>;
  close(): void;
}

/** What distinguishes one program in the composition root. */
export interface BackendProgram<C extends ProgramConfig> {
  /** The metrics' plugin label and the plugin data name: "pagerduty", "opsgenie". */
  plugin: string;
  /** For the start-up log line. */
  product(config: C): string;
  planReload(previous: C, next: C): ReloadPlan;
  /** One generation's backend, built from `config`. */
  open(config: C, ops: Operations, opts: RunOptions): BackendSetup;
}

/** teleport-pagerduty until `opts.signal` aborts; a reload that needs new clients starts a new generation. */
export function runPlugin(config: Config, opts: RunOptions): Promise<void> {
  return runProgram(config, PAGERDUTY, opts);
}

/** teleport-opsgenie, on Opsgenie's API or on JSM Operations' (`api = "jsm"`). */
export function runOpsgenie(config: OpsgenieProgramConfig, opts: RunOptions): Promise<void> {
  return runProgram(config, OPSGENIE, opts);
}

const PAGERDUTY: BackendProgram<Config> = {
  plugin: "pagerduty",
  product: () => "PagerDuty",
  planReload,
  open(config, ops, opts) {
    const pagerduty = new PagerDutyClient(config.pagerduty, {
      ...opts.pagerdutyOptions,
      observe: ops.observeUpstream,
      onRateLimitWait: (source, seconds) => ops.metrics.rateLimitWait(source, seconds),
    });
    return {
      backend: new PagerDutyBackend(pagerduty, config.pagerduty.requestAnnotations),
      autoApproval: config.pagerduty.autoApproval,
      concurrency: config.pagerduty.maxConcurrentRequests,
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
    };
  },
};

const OPSGENIE: BackendProgram<OpsgenieProgramConfig> = {
  plugin: "opsgenie",
  product: (config) => config.opsgenie.api === "jsm" ? "JSM Operations" : "Opsgenie",
  planReload: planOpsgenieReload,
  open(config, ops, opts) {
    const og = config.opsgenie;
    const backend = createOpsgenieBackend(og, {
      defaultSchedules: og.defaultSchedules,
      defaultTeams: og.defaultTeams,
      tags: og.alertTags,
      priority: og.priority,
    }, {
      ...opts.opsgenieOptions,
      observe: ops.observeUpstream,
      onRateLimitWait: (source, seconds) => ops.metrics.rateLimitWait(source, seconds),
    });
    const product = OPSGENIE.product(config);
    return {
      backend,
      autoApproval: og.autoApproval,
      concurrency: og.maxConcurrentRequests,
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
    };
  },
};

/** Runs a program until `opts.signal` aborts; a reload that needs new clients starts a new generation. */
export async function runProgram<C extends ProgramConfig>(
  config: C,
  program: BackendProgram<C>,
  opts: RunOptions,
): Promise<void> {
  const log = getLog("core");
  log.info(`Starting Teleport Access ${program.product(config)} Plugin`);
  const reloader = opts.reloader as ReloadHooks<C> | undefined;
  await using ops = await startOperations(config, { plugin: program.plugin, reloader });
  const instanceId = opts.instanceId ?? `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  let current = config;
  let generation = new AbortController();
  let teleport = connectTeleport(config, opts);
  reloader?.onApply((next, previous) => {
    const plan = program.planReload(previous, next);
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
      try {
        await runGeneration(program.open(current, ops, opts), teleport, { ...opts, instanceId, signal }, ops);
      } catch (error) {
        // A shutdown (or a reload) while still connecting is not a failure.
        if (!signal.aborted) throw error;
      }
      if (!generation.signal.aborted) return;
    }
  } finally {
    teleport.close();
  }
}

function connectTeleport(config: ProgramConfig, opts: RunOptions): TeleportClient {
  return TeleportClient.connect(config.teleport, {
    ...opts.teleportOptions,
    watcherTiming: { failFast: failFastFromEnv(), ...opts.teleportOptions?.watcherTiming },
  });
}

/** One backend client and one controller on `teleport`, until `opts.signal` aborts. */
async function runGeneration(
  setup: BackendSetup,
  teleport: TeleportClient,
  opts: RunOptions & { instanceId: string },
  ops: Operations,
) {
  const log = getLog("core");
  const { backend } = setup;
  let rules: AccessMonitoringRules | undefined;
  try {
    log.debug("Checking Teleport server version");
    const pong = await pingUntilReachable(teleport, { failFast: failFastFromEnv(), signal: opts.signal });
    // The backend's check runs alongside the watch rather than before it: a connection left
    // idle after the Ping is what Deno's HTTP/2 GOAWAY abort kills (denoland/deno#36788).
    const refused = new AbortController();
    const checked = setup.check().catch((error) => {
      refused.abort();
      throw error;
    });
    checked.catch(() => {}); // observed by Promise.all below; not unhandled meanwhile
    await using _extras = await setup.extras?.(teleport, pong);
    const proxy = pong.advancedAccessWorkflows ? pong.proxyPublicAddr : "";
    const routing = new AccessMonitoringRules({ pluginName: backend.pluginName, source: teleport });
    rules = routing;
    const plugin = new AccessRequestPlugin({
      teleport,
      backend,
      rules: routing,
      extension: rulesWatch(routing),
      instanceId: opts.instanceId,
      requestLink: (id) => proxy ? requestLink(proxy, id) : undefined,
      autoApproval: setup.autoApproval,
      concurrency: setup.concurrency,
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
    await Promise.all([checked, plugin.run(AbortSignal.any([opts.signal, refused.signal]))]);
  } finally {
    rules?.close();
    setup.close();
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
 * Runs `work` for at most `deadlineMs`: it gets a signal that aborts at the deadline,
 * so it stops then instead of retrying in the background.
 */
function withDeadline<T>(
  work: (signal: AbortSignal) => Promise<T>,
  what: string,
  deadlineMs = INIT_TIMEOUT_MS,
): Promise<T> {
  const signal = AbortSignal.timeout(deadlineMs);
  // Work that honours the signal explains the timeout itself (endpoint, last failure);
  // a bare abort reason gets the generic sentence.
  return work(signal).catch((error) => {
    throw error === signal.reason ? new Error(`timed out after ${deadlineMs / 1000}s ${what}`) : error;
  });
}
