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

/** What the settings of one program's backend table mean for a reload. */
export interface BackendSection {
  /** The table: "pagerduty", "opsgenie". */
  name: string;
  /** Settings whose change needs a new backend client. */
  clientKeys: string[];
  /** Settings that route requests (annotation names, default recipients). */
  routingKeys: string[];
  /** Secrets the log redacts: a change re-applies logging. */
  secretKeys: string[];
}

/** teleport-pagerduty's [pagerduty]. */
export const PAGERDUTY_SECTION: BackendSection = {
  name: "pagerduty",
  clientKeys: [
    "apiKey",
    "userEmail",
    "apiEndpoint",
    "caFile",
    "rateLimitPerMinute",
    "requestTimeout",
    "maxConcurrentRequests",
  ],
  routingKeys: ["requestAnnotations"],
  secretKeys: ["apiKey"],
};

/** teleport-opsgenie's [opsgenie]. */
export const OPSGENIE_SECTION: BackendSection = {
  name: "opsgenie",
  clientKeys: [
    "api",
    "apiKey",
    "cloudId",
    "userEmail",
    "apiToken",
    "apiEndpoint",
    "caFile",
    "rateLimitPerMinute",
    "requestTimeout",
    "maxConcurrentRequests",
    "priority",
    "alertTags",
  ],
  routingKeys: ["defaultSchedules", "defaultTeams"],
  secretKeys: ["apiKey", "apiToken"],
};

/** Compares two teleport-opsgenie configurations. */
export function planOpsgenieReload<C extends Sections>(previous: C, next: C): ReloadPlan {
  return planReloadOf(OPSGENIE_SECTION, previous, next);
}

/** Compares two teleport-pagerduty configurations. */
export function planReload(previous: Config, next: Config): ReloadPlan {
  return planReloadOf(PAGERDUTY_SECTION, previous, next);
}

/** The sections every program's configuration has. */
type Sections = Pick<Config, "teleport" | "log" | "diag">;

/** Compares two configurations of the program whose backend table is `section`. */
export function planReloadOf<C extends Sections>(section: BackendSection, previous: C, next: C): ReloadPlan {
  const changed: string[] = [];
  const compare = (name: string, a: object, b: object) => {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      if (!same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
        changed.push(`${name}.${key}`);
      }
    }
  };
  const backendOf = (c: C) => (c as unknown as Record<string, object>)[section.name];
  compare("teleport", previous.teleport, next.teleport);
  compare(section.name, backendOf(previous), backendOf(next));
  compare("log", previous.log, next.log);
  compare("diag", previous.diag, next.diag);
  const has = (key: string) => changed.includes(`${section.name}.${key}`);
  return {
    logging: changed.some((c) => c.startsWith("log.")) || section.secretKeys.some(has),
    backend: section.clientKeys.some(has),
    annotations: section.routingKeys.some(has),
    autoApproval: has("autoApproval"),
    teleport: changed.some((c) => c.startsWith("teleport.")),
    diagRestartNeeded: changed.includes("diag.addr"),
    changed,
  };
}
