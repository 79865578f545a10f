/**
 * What a reloaded configuration changes, grouped by what the composition root must do
 * about it (see ConfigReloader.onApply). Pure: compare, never act.
 *
 *   reloader.onApply(async (next, previous) => {
 *     const plan = planReload(previous, next);
 *     if (plan.backend) backend.reconfigure(next.pagerduty);        // key, endpoint, limits, timeouts
 *     if (plan.annotations || plan.autoApproval) controller.reconfigure({ … });
 *     if (plan.teleport) await teleport.reconnect(next.teleport);   // the watch resyncs after it
 *   });
 *
 * Logging (`plan.logging`) is applied by the CLI before the plugin's step runs.
 */
import type { Config } from "../config/types.ts";

export interface ReloadPlan {
  /** [log] changed, or the API key (which the log redacts) did. */
  logging: boolean;
  /** The backend client needs rebuilding: API key, endpoint, CA, rate limit, timeout, bot user. */
  backend: boolean;
  /** Request annotation names changed. */
  annotations: boolean;
  autoApproval: boolean;
  /** Teleport address or credentials changed: reconnect the watch (then resync). */
  teleport: boolean;
  /** `[diag] addr` changed: takes effect only at the next start (logged as such). */
  diagRestartNeeded: boolean;
  /** Dotted names of every changed setting, for the log (never values: some are secrets). */
  changed: string[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Compares two configurations. */
export function planReload(previous: Config, next: Config): ReloadPlan {
  const changed: string[] = [];
  const compare = (section: string, a: object, b: object) => {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (!same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
        changed.push(`${section}.${key}`);
      }
    }
  };
  compare("teleport", previous.teleport, next.teleport);
  compare("pagerduty", previous.pagerduty, next.pagerduty);
  compare("log", previous.log, next.log);
  compare("diag", previous.diag, next.diag);
  const has = (name: string) => changed.includes(name);
  const backendKeys = [
    "apiKey",
    "userEmail",
    "apiEndpoint",
    "caFile",
    "rateLimitPerMinute",
    "requestTimeout",
  ];
  return {
    logging: changed.some((c) => c.startsWith("log.")) || has("pagerduty.apiKey"),
    backend: backendKeys.some((key) => has(`pagerduty.${key}`)),
    annotations: has("pagerduty.requestAnnotations"),
    autoApproval: has("pagerduty.autoApproval"),
    teleport: changed.some((c) => c.startsWith("teleport.")),
    diagRestartNeeded: has("diag.addr"),
    changed,
  };
}
