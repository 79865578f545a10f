/**
 * The rules cache: the access monitoring rules that route this plugin's
 * notifications, kept current from a listing (at start and after every reconnect)
 * and the watch's PUT/DELETE events in between. Each rule's condition is parsed
 * once, when the rule arrives.
 *
 * A listing races with the watch: an event may arrive while the list call is in
 * flight and the listing may predate it. Events seen since the listing began are
 * therefore replayed over the listing when it lands, so the cache ends on the
 * newest state of every rule whatever the interleaving.
 */
import type { AccessMonitoringRule } from "../core/types.ts";
import { Condition } from "./condition.ts";

export const SUBJECT_ACCESS_REQUEST = "access_request";

/** A cached rule and its parsed condition, or why the condition does not parse. */
export interface CachedRule {
  rule: AccessMonitoringRule;
  condition?: Condition;
  parseError?: string;
}

type RuleEvent = { op: "put"; rule: AccessMonitoringRule } | { op: "delete"; name: string };

export class RulesCache {
  readonly #rules = new Map<string, CachedRule>();
  /** Events since the pending listing began; undefined when no listing is pending. */
  #sinceListing: RuleEvent[] | undefined;
  #generation = 0;

  constructor(readonly pluginName: string) {}

  /** Upstream's ruleApplies: the notification is for this plugin and access requests are a subject. */
  applies(rule: AccessMonitoringRule): boolean {
    return rule.notification?.name === this.pluginName && rule.subjects.includes(SUBJECT_ACCESS_REQUEST);
  }

  /** Replaces the whole content with `rules` (those that apply), then replays events seen since beginListing. */
  reset(rules: AccessMonitoringRule[]): void {
    this.#rules.clear();
    for (const rule of rules) this.#store(rule);
    for (const event of this.#sinceListing ?? []) this.#apply(event);
    this.#sinceListing = undefined;
  }

  /** A created or updated rule: cached if it applies, evicted if it no longer does. */
  put(rule: AccessMonitoringRule): void {
    this.#record({ op: "put", rule });
  }

  /** A deleted rule. */
  delete(name: string): void {
    this.#record({ op: "delete", name });
  }

  /** Starts a listing; returns its token for finishListing. A newer listing supersedes older ones. */
  beginListing(): number {
    this.#sinceListing ??= [];
    return ++this.#generation;
  }

  /** Applies a listing's result unless a newer listing began since; returns whether it was applied. */
  finishListing(token: number, rules: AccessMonitoringRule[]): boolean {
    if (token !== this.#generation) return false;
    this.reset(rules);
    return true;
  }

  /** The cached rules, sorted by name. */
  rules(): CachedRule[] {
    return [...this.#rules.values()].sort((a, b) => a.rule.name.localeCompare(b.rule.name));
  }

  get(name: string): CachedRule | undefined {
    return this.#rules.get(name);
  }

  get size(): number {
    return this.#rules.size;
  }

  #record(event: RuleEvent): void {
    this.#sinceListing?.push(event);
    this.#apply(event);
  }

  #apply(event: RuleEvent): void {
    if (event.op === "delete") this.#rules.delete(event.name);
    else if (this.applies(event.rule)) this.#store(event.rule);
    else this.#rules.delete(event.rule.name);
  }

  #store(rule: AccessMonitoringRule): void {
    if (!this.applies(rule)) return;
    const previous = this.#rules.get(rule.name);
    if (previous && previous.rule.condition === rule.condition) {
      this.#rules.set(rule.name, { ...previous, rule });
      return;
    }
    try {
      this.#rules.set(rule.name, { rule, condition: Condition.parse(rule.condition) });
    } catch (error) {
      this.#rules.set(rule.name, { rule, parseError: (error as Error).message });
    }
  }
}
