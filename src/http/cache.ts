import { type Clock, systemClock } from "./clock.ts";

/**
 * A small TTL cache of lookups that also coalesces concurrent misses: the pending
 * promise is cached, so a thousand simultaneous requests for the same service cost
 * one API call. Failures and `null` (not found) results are dropped at once, so a
 * service created after a miss is found on the next attempt.
 */
export class LookupCache<V> {
  readonly #entries = new Map<string, { value: Promise<V | null>; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;

  constructor(options: { ttlMs: number; maxEntries?: number; clock?: Clock }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 1_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** Returns the cached value for `key`, or runs `load` once and caches its result. */
  get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const now = this.#clock.now();
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const value = load();
    this.#store(key, value, now);
    value.then(
      (result) => result === null && this.#forget(key, value),
      () => this.#forget(key, value),
    );
    return value;
  }

  #store(key: string, value: Promise<V | null>, now: number): void {
    this.#entries.delete(key);
    // Maps iterate in insertion order, so the first key is the oldest entry.
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs });
  }

  /** Drops `key` only if it still holds this very promise (a newer load may have replaced it). */
  #forget(key: string, value: Promise<V | null>): void {
    if (this.#entries.get(key)?.value === value) this.#entries.delete(key);
  }
}
