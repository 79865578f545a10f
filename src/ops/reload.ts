/**
 * Configuration reload on SIGHUP. The file is re-read with the normal loader; an
 * invalid file keeps the running configuration and is reported in one log line
 * naming the file, the key and its line. A valid one is handed to every registered
 * `apply(next, previous)` in turn (logging first, then the plugin). Reloads never
 * overlap: a SIGHUP during a reload runs one more reload after it.
 */
import { ConfigError, sourceName } from "../config/errors.ts";
import { loadConfig } from "../config/load.ts";
import { lineOfKey } from "../config/locate.ts";
import type { Config } from "../config/types.ts";
import type { ComponentStatus } from "./diag/readiness.ts";
import { getLog } from "./logging.ts";
import { planReload, type ReloadPlan } from "./reload_plan.ts";

/** Applies a new configuration; throwing leaves `previous` in force (as far as the applier can tell). */
export type ApplyConfig<C = Config> = (next: C, previous: C) => void | Promise<void>;

export type ReloadResult = "ok" | "unchanged" | "invalid" | "failed";

export interface ReloadOutcome {
  result: ReloadResult;
  at: Date;
  /** The one-line problem, for "invalid" and "failed". */
  error?: string;
}

export interface ReloaderOptions<C = Config> {
  /** Path the running configuration came from ("-" cannot be reloaded). */
  path: string;
  initial: C;
  /** The program's loader (default: teleport-pagerduty's); replaceable for tests. */
  load?: (path: string) => Promise<{ config: C; warnings: string[] }>;
  /** What a change means (default: teleport-pagerduty's planReload). */
  plan?: (previous: C, next: C) => ReloadPlan;
  clock?: () => Date;
}

/** What the plugin and the operations use of a reloader (methods only, so any program's fits). */
export interface ReloadHooks<C> {
  onApply(apply: ApplyConfig<C>): void;
  observe(observer: (outcome: ReloadOutcome) => void): void;
  status(): ComponentStatus;
}

/** Reloads one program's configuration; `C` is its configuration type (teleport-pagerduty's by default). */
export class ConfigReloader<C = Config> implements ReloadHooks<C> {
  #current: C;
  #last?: ReloadOutcome;
  readonly #appliers: ApplyConfig<C>[] = [];
  readonly #observers: Array<(outcome: ReloadOutcome) => void> = [];
  readonly #o: ReloaderOptions<C>;
  #running?: Promise<ReloadOutcome>;
  #again = false;

  constructor(options: ReloaderOptions<C>) {
    this.#o = options;
    this.#current = options.initial;
  }

  /** The configuration in force. */
  get current(): C {
    return this.#current;
  }

  /** The last reload's outcome, if any happened. */
  get last(): ReloadOutcome | undefined {
    return this.#last;
  }

  /** Registers a step of applying a new configuration; steps run in registration order. */
  onApply(apply: ApplyConfig<C>): void {
    this.#appliers.push(apply);
  }

  /** Tells `observer` about every reload's outcome (metrics). */
  observe(observer: (outcome: ReloadOutcome) => void): void {
    this.#observers.push(observer);
  }

  /** Reloads now (the SIGHUP hook). During a reload, queues one more and resolves with the last outcome. */
  reload(): Promise<ReloadOutcome> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const run = async (): Promise<ReloadOutcome> => {
      let outcome: ReloadOutcome;
      do {
        this.#again = false;
        outcome = await this.#reloadOnce();
      } while (this.#again);
      this.#running = undefined;
      return outcome;
    };
    this.#running = run();
    return this.#running;
  }

  /** The /readyz component for the last reload: a rejected file degrades, it does not stop the plugin. */
  status(): ComponentStatus {
    const last = this.#last;
    if (!last) return { status: "healthy", source: sourceName(this.#o.path) };
    const detail = { source: sourceName(this.#o.path), result: last.result, at: last.at.toISOString() };
    if (last.result === "ok" || last.result === "unchanged") return { status: "healthy", ...detail };
    return {
      status: "degraded",
      reason: `the last reload was rejected; the previous configuration is still running: ${last.error}`,
      ...detail,
    };
  }

  async #reloadOnce(): Promise<ReloadOutcome> {
    const log = getLog("reload");
    const { path } = this.#o;
    const now = this.#o.clock ?? (() => new Date());
    const done = (outcome: ReloadOutcome) => {
      this.#last = outcome;
      for (const observer of this.#observers) observer(outcome);
      return outcome;
    };
    if (path === "-") {
      const error = "the configuration was read from standard input and cannot be re-read";
      log.warn("SIGHUP received: {error}; still running", { error });
      return done({ result: "invalid", at: now(), error });
    }
    log.info("SIGHUP received: reloading the configuration from {path}", { path });
    let next: { config: C; warnings: string[] };
    try {
      next = await (this.#o.load ??
        (loadConfig as unknown as (path: string) => Promise<{ config: C; warnings: string[] }>))(path);
    } catch (error) {
      const message = await describeLoadError(error, path);
      log.error("Configuration reload rejected, the previous configuration is still running: {error}", {
        error: message,
      });
      return done({ result: "invalid", at: now(), error: message });
    }
    for (const warning of next.warnings) log.warn(warning);
    const previous = this.#current;
    const plan = (this.#o.plan ?? (planReload as unknown as (a: C, b: C) => ReloadPlan))(
      previous,
      next.config,
    );
    if (plan.changed.length === 0) {
      log.info("Configuration unchanged");
      return done({ result: "unchanged", at: now() });
    }
    try {
      for (const apply of this.#appliers) await apply(next.config, previous);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log.error("Applying the reloaded configuration failed: {error}", { error: message });
      return done({ result: "failed", at: now(), error: message });
    }
    this.#current = next.config;
    log.info("Configuration reloaded; changed: {changed}", { changed: plan.changed.join(", ") });
    if (plan.diagRestartNeeded) {
      log.warn("diag.addr changed: the diagnostics address moves at the next start");
    }
    return done({ result: "ok", at: now() });
  }
}

/** One line: `file:line: key: problem` when the key can be located, else the loader's message. */
async function describeLoadError(error: unknown, path: string): Promise<string> {
  if (!(error instanceof ConfigError)) return error instanceof Error ? error.message : String(error);
  if (error.line !== undefined || error.keyPath === undefined) return error.message;
  let line: number | undefined;
  try {
    line = lineOfKey(await Deno.readTextFile(path), error.keyPath);
  } catch {
    // The file vanished between the two reads; the message still names file and key.
  }
  if (line === undefined) return error.message;
  const name = sourceName(path);
  return `${name}:${line}:${error.message.slice(name.length + 1)}`;
}
