/**
 * A whole world for the plugin: a Teleport double (real gRPC over mTLS), a
 * PagerDuty double (real HTTP), the plugin's credentials on disk and a config
 * pointing at both. Plugins started here are the real `runPlugin`, in process.
 * Used by the parity suite, the demo and the benchmarks.
 */
import type { Config } from "../config/types.ts";
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
  teleportOptions: { watcherTiming: { initTimeoutMs: 5_000, reconnectBaseMs: 20, reconnectCapMs: 500 } },
};

export async function startWorld(options: TeleportDoubleOptions = {}): Promise<World> {
  const teleport = await TeleportDouble.start(options);
  const pagerduty = await PagerDutyDouble.start();
  const dir = await Deno.makeTempDir({ prefix: "teleport-pagerduty-world-" });
  /** Closes both doubles and removes the credentials, whatever fails on the way. */
  const cleanUp = async () => {
    try {
      await pagerduty.close();
    } finally {
      try {
        await teleport.close();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    }
  };
  const credentials = await teleport.writeCredentials(PLUGIN_USER, dir).catch(async (error) => {
    await cleanUp();
    throw error;
  });
  const config: Config = {
    teleport: {
      addr: teleport.addr,
      refreshIdentity: false,
      refreshIdentityInterval: 60_000,
      clientKey: credentials.clientKey,
      clientCrt: credentials.clientCrt,
      rootCas: credentials.rootCas,
    },
    pagerduty: {
      apiKey: pagerduty.apiKey,
      userEmail: BOT_EMAIL,
      apiEndpoint: pagerduty.url,
      rateLimitPerMinute: 60_000,
      requestTimeout: 10_000,
      requestAnnotations: { notifyService: "pagerduty_notify_service", services: "pagerduty_services" },
      autoApproval: "on",
    },
    log: { output: "stderr", severity: "info", format: "text" },
    diag: { addr: "" },
    source: "world",
  };
  const running: RunningPlugin[] = [];

  return {
    teleport,
    pagerduty,
    dir,
    credentials,
    config,
    async startPlugin(overrides = {}) {
      const instance = await startInstance(config, { ...FAST_TIMINGS, ...overrides });
      running.push(instance);
      return instance;
    },
    async [Symbol.asyncDispose]() {
      try {
        await Promise.all(running.map((p) => p.stop()));
      } finally {
        await cleanUp();
      }
    },
  };
}

async function startInstance(config: Config, options: Partial<RunOptions>): Promise<RunningPlugin> {
  const shutdown = new AbortController();
  let ready!: (plugin: AccessRequestPlugin) => void;
  const readyPlugin = new Promise<AccessRequestPlugin>((resolve) => ready = resolve);
  const done = runPlugin(config, { ...options, signal: shutdown.signal, onReady: ready });
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
