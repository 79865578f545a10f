/**
 * AccessMonitoringRules: notification routing by access_monitoring_rule resources
 * (the core's RecipientRules port). It owns the rules cache, re-lists the rules at
 * every watch (re)connect, applies the watch's rule events, and picks the
 * recipients for a request: the union of the recipients of every rule that applies
 * to this plugin, is in schedule at the request's creation and whose condition holds.
 *
 * Nothing here fails silently: a missing permission (to list or watch rules, or to
 * read users for `user.traits`) is a warning with the fix and a readiness problem;
 * a rule whose condition does not parse or evaluate, or whose schedule is invalid,
 * is skipped with one warning naming it, and never blocks the others.
 */
import type { RecipientRules } from "../core/routing.ts";
import type { AccessMonitoringRule, AccessRequest, WatchEvent } from "../core/types.ts";
import { describe, refusalOf } from "../core/errors.ts";
import { DecorrelatedBackoff, sleep } from "../ops/backoff.ts";
import { getLog } from "../ops/logging.ts";
import { type CachedRule, RulesCache } from "./cache.ts";
import { TRAITS_VARIABLE } from "./condition.ts";
import { inAnySchedule } from "./schedule.ts";
import { KIND_ACCESS_MONITORING_RULE } from "../core/types.ts";

/** What the rules need from Teleport (TeleportClient implements it). */
export interface RulesSource {
  /** Every rule about access requests for `notificationName`, all pages. */
  listAccessMonitoringRules(notificationName: string): Promise<AccessMonitoringRule[]>;
  /** The user's traits; an "access-denied" refusal without permission to read users. */
  getUserTraits(user: string): Promise<Record<string, string[]>>;
}

/** The logger calls used here (a logtape Logger fits). */
export interface RulesLog {
  warn(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  debug(message: string, properties?: Record<string, unknown>): void;
}

export interface AccessMonitoringRulesOptions {
  /** The notification name rules must carry: "pagerduty", "opsgenie". */
  pluginName: string;
  source: RulesSource;
  log?: RulesLog;
  /** Retry delays for a failed listing (default 1 s .. 30 s). */
  retry?: { baseMs: number; capMs: number };
}

export const RULES_PERMISSION_FIX =
  'grant the plugin\'s role `access_monitoring_rule: [read, list]` (the preset "access-plugin" role has it)';
export const TRAITS_PERMISSION_WARNING =
  'Missing permissions to read user.traits, please use the preset "access-plugin" role';

export class AccessMonitoringRules implements RecipientRules {
  readonly cache: RulesCache;
  readonly #source: RulesSource;
  readonly #log: RulesLog;
  readonly #retry: { baseMs: number; capMs: number };
  /** Readiness problems by topic ("rules", "traits"). */
  readonly #problems = new Map<string, string>();
  /** Keys of the rule failures already warned about (rule name + condition + error). */
  readonly #warned = new Set<string>();
  #listing: AbortController | undefined;

  constructor(options: AccessMonitoringRulesOptions) {
    this.cache = new RulesCache(options.pluginName);
    this.#source = options.source;
    this.#log = options.log ?? getLog("rules");
    this.#retry = options.retry ?? { baseMs: 1_000, capMs: 30_000 };
  }

  /**
   * Call on every watch INIT with the kinds Teleport confirmed. Re-lists the rules
   * (events missed while disconnected are never replayed), retrying a failed list
   * until it succeeds, the next INIT supersedes it, or `signal` aborts. Resolves
   * when the listing is applied (or given up for lack of permission).
   */
  async onInit(confirmedKinds: string[], signal?: AbortSignal): Promise<void> {
    this.#listing?.abort();
    const listing = new AbortController();
    this.#listing = listing;
    const stop = signal ? AbortSignal.any([signal, listing.signal]) : listing.signal;
    if (!confirmedKinds.includes(KIND_ACCESS_MONITORING_RULE)) {
      this.cache.reset([]);
      this.#problem(
        "rules",
        `Teleport did not accept watching access_monitoring_rule, so rules are ignored and role annotations ` +
          `decide the recipients; ${RULES_PERMISSION_FIX}`,
      );
      return;
    }
    const token = this.cache.beginListing();
    const backoff = new DecorrelatedBackoff(this.#retry.baseMs, this.#retry.capMs);
    while (!stop.aborted) {
      try {
        const rules = await this.#source.listAccessMonitoringRules(this.cache.pluginName);
        if (stop.aborted || !this.cache.finishListing(token, rules)) return;
        this.#problems.delete("rules");
        this.#log.info("Access monitoring rules loaded", { rules: this.cache.size });
        return;
      } catch (error) {
        const refusal = refusalOf(error);
        if (refusal === "access-denied" || refusal === "not-implemented") {
          // Retrying cannot fix these: no permission, or a server without the rules service.
          const fix = refusal === "access-denied" ? RULES_PERMISSION_FIX : "Teleport 16.2 or newer has it";
          this.cache.finishListing(token, []);
          this.#problem(
            "rules",
            `Cannot list access monitoring rules (${describe(error)}), so rules are ignored and role ` +
              `annotations decide the recipients; ${fix}`,
          );
          return;
        }
        const message = `Cannot list access monitoring rules, retrying: ${(error as Error).message}`;
        this.#problems.set("rules", message);
        this.#log.warn(message);
      }
      await sleep(backoff.next(), stop).catch(() => {});
    }
  }

  /**
   * Call with every watch event; applies rule PUTs and DELETEs and returns true for
   * them, false for anything else (which the caller handles).
   */
  handleEvent(event: WatchEvent): boolean {
    if (event.type === "rule") {
      this.cache.put(event.rule);
      this.#log.debug("Access monitoring rule updated", { rule: event.rule.name });
      return true;
    }
    if (event.type === "delete" && event.kind === KIND_ACCESS_MONITORING_RULE) {
      this.cache.delete(event.id);
      this.#log.debug("Access monitoring rule deleted", { rule: event.id });
      return true;
    }
    return false;
  }

  /** Stops a listing retry loop (shutdown). */
  close(): void {
    this.#listing?.abort();
  }

  async recipientsFor(request: AccessRequest): Promise<string[] | undefined> {
    const instant = request.created ?? new Date();
    const candidates = this.cache.rules().filter((cached) => this.#usable(cached, instant));
    if (candidates.length === 0) return undefined;
    const needsTraits = candidates.some((cached) => cached.condition!.variables.has(TRAITS_VARIABLE));
    const env = { request, traits: needsTraits ? await this.#traits(request.user) : {} };
    const recipients = new Set<string>();
    for (const { rule, condition } of candidates) {
      let matches: boolean;
      try {
        matches = condition!.matches(env);
      } catch (error) {
        this.#warnRule(rule, "its condition cannot be evaluated", error);
        continue;
      }
      if (!matches) continue;
      for (const recipient of rule.notification?.recipients ?? []) recipients.add(recipient);
    }
    // A matching rule without recipients routes nowhere: the annotation decides, as upstream.
    return recipients.size > 0 ? [...recipients] : undefined;
  }

  problems(): string[] {
    return [...this.#problems.values()];
  }

  /** Parsed, and in schedule at `instant`; warns (once) about broken rules. */
  #usable({ rule, condition, parseError }: CachedRule, instant: Date): boolean {
    if (!condition) {
      this.#warnRule(rule, "its condition does not parse", parseError);
      return false;
    }
    try {
      if (inAnySchedule(instant, rule.schedules)) return true;
      this.#log.debug("Access request does not satisfy schedule condition", { rule: rule.name });
    } catch (error) {
      this.#warnRule(rule, "its schedule is invalid", error);
    }
    return false;
  }

  async #traits(user: string): Promise<Record<string, string[]>> {
    try {
      const traits = await this.#source.getUserTraits(user);
      this.#problems.delete("traits");
      return traits;
    } catch (error) {
      if (refusalOf(error) === "not-found") return {};
      if (refusalOf(error) !== "access-denied") throw error;
      if (!this.#problems.has("traits")) {
        this.#problem(
          "traits",
          `${TRAITS_PERMISSION_WARNING} (it may read users); conditions on user.traits see no traits`,
        );
      }
      return {};
    }
  }

  #problem(topic: string, message: string): void {
    if (this.#problems.get(topic) !== message) this.#log.warn(message);
    this.#problems.set(topic, message);
  }

  #warnRule(rule: AccessMonitoringRule, what: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    const key = `${rule.name}\0${rule.condition}\0${what}\0${reason}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.#log.warn(`Access monitoring rule "${rule.name}" is skipped: ${what}: ${reason}`, {
      rule: rule.name,
    });
  }
}
