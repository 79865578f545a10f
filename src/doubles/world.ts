/**
 * A whole world for the plugin: a Teleport double (real gRPC over mTLS), a
 * PagerDuty double (real HTTP), the plugin's credentials on disk and a config
 * pointing at both. Plugins started here are the real `runPlugin`, in process.
 * Used by the parity suite, the demo and the benchmarks. The Teleport half is shared
 * with the Opsgenie world (./opsgenie_world.ts).
 */
import type { Config, TeleportConfig } from "../config/types.ts";
import type { AccessRequestPlugin } from "../core/plugin.ts";
import { type RunOptions, runPlugin } from "../run.ts";
import { PagerDutyDouble } from "./pagerduty_double.ts";
import { type CredentialPaths, TeleportDouble, type TeleportDoubleOptions } from "./teleport_double.ts";

export const PLUGIN_USER = "plugin";
export const BOT_EMAIL = "bot@example.com";

export interface RunningPlugin {
  plugin: AccessRequestPlugin;
  /** Graceful stop: the work in hand finishes first. */
  stop(): Promise<void>;
}

export interface World extends AsyncDisposable {
  teleport: TeleportDouble;
  pagerduty: PagerDutyDouble;
  dir: string;
  credentials: CredentialPaths;
  config: Config;
  /** Starts an instance and waits until it is ready; every instance is stopped with the world. */
  startPlugin(options?: Partial<Omit<RunOptions, "signal" | "onReady">>): Promise<RunningPlugin>;
}

/** Timings that keep tests quick: short leases and retries, fast PagerDuty retries. */
export const FAST_TIMINGS: Partial<RunOptions> = {
  plugin: { leaseTtlMs: 2_000, retryBackoff: { baseMs: 50, capMs: 1_000 } },
  pagerdutyOptions: { retry: { deadlineMs: 5_000, baseDelayMs: 20, maxDelayMs: 500 } },
  opsgenieOptions: {
    retry: { deadlineMs: 5_000, baseDelayMs: 20, maxDelayMs: 500 },
    poll: { firstDelayMs: 20, maxDelayMs: 200 },
  },
  teleportOptions: { watcherTiming: { initTimeoutMs: 5_000, reconnectBaseMs: 20, reconnectCapMs: 500 } },
};

export async function startWorld(options: TeleportDoubleOptions = {}): Promise<World> {
  const base = await startTeleportSide(options, "teleport-pagerduty-world-");
  const pagerduty = await PagerDutyDouble.start();
  const config: Config = {
    teleport: base.teleportConfig,
    pagerduty: {
      apiKey: pagerduty.apiKey,
      userEmail: BOT_EMAIL,
      apiEndpoint: pagerduty.url,
      rateLimitPerMinute: 60_000,
      maxConcurrentRequests: 64,
      requestTimeout: 10_000,
      requestAnnotations: { notifyService: "pagerduty_notify_service", services: "pagerduty_services" },
      autoApproval: "on",
    },
    log: { output: "stderr", severity: "info", format: "text" },
    diag: { addr: "" },
    source: "world",
  };
  const instances = new Instances(runPlugin, config);
  return {
    teleport: base.teleport,
    pagerduty,
    dir: base.dir,
    credentials: base.credentials,
    config,
    startPlugin: (overrides = {}) => instances.start({ ...FAST_TIMINGS, ...overrides }),
    /** Stops the instances, closes both doubles and removes the credentials, whatever fails on the way. */
    async [Symbol.asyncDispose]() {
      try {
        await instances.stopAll();
      } finally {
        try {
          await pagerduty.close();
        } finally {
          await base.close();
        }
      }
    },
  };
}

/** The Teleport half of a world: the double, the plugin's credentials in a temp dir, its [teleport] config. */
export interface TeleportSide {
  teleport: TeleportDouble;
  dir: string;
  credentials: CredentialPaths;
  teleportConfig: TeleportConfig;
  close(): Promise<void>;
}

/** Starts a Teleport double and writes the plugin's credentials for it. */
export async function startTeleportSide(
  options: TeleportDoubleOptions,
  prefix: string,
): Promise<TeleportSide> {
  const teleport = await TeleportDouble.start(options);
  const dir = await Deno.makeTempDir({ prefix });
  const credentials = await teleport.writeCredentials(PLUGIN_USER, dir).catch(async (error) => {
    try {
      await teleport.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
    throw error;
  });
  return {
    teleport,
    dir,
    credentials,
    teleportConfig: {
      addr: teleport.addr,
      refreshIdentity: false,
      refreshIdentityInterval: 60_000,
      clientKey: credentials.clientKey,
      clientCrt: credentials.clientCrt,
      rootCas: credentials.rootCas,
    },
    async close() {
      try {
        await teleport.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/** The plugin instances of a world, started in process with the real composition root. */
export class Instances<C> {
  readonly #running: RunningPlugin[] = [];

  constructor(
    private readonly run: (config: C, opts: RunOptions) => Promise<void>,
    private readonly config: C,
  ) {}

  /** Starts an instance and waits until it is ready. */
  async start(options: Partial<RunOptions>): Promise<RunningPlugin> {
    const instance = await startInstance(this.run, this.config, options);
    this.#running.push(instance);
    return instance;
  }

  stopAll(): Promise<void[]> {
    return Promise.all(this.#running.map((p) => p.stop()));
  }
}

async function startInstance<C>(
  run: (config: C, opts: RunOptions) => Promise<void>,
  config: C,
  options: Partial<RunOptions>,
): Promise<RunningPlugin> {
  const shutdown = new AbortController();
  let ready!: (plugin: AccessRequestPlugin) => void;
  const readyPlugin = new Promise<AccessRequestPlugin>((resolve) => ready = resolve);
  const done = run(config, { ...options, signal: shutdown.signal, onReady: ready });
  const plugin = await Promise.race([
    readyPlugin,
    done.then(() => Promise.reject(new Error("plugin exited"))),
  ]);
  let stopped: Promise<void> | undefined;
  return {
    plugin,
    stop() {
      shutdown.abort();
      stopped ??= done;
      return stopped;
    },
  };
}

/** Polls until `predicate` holds; fails naming `what` after the timeout. */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
