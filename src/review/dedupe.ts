/**
 * Remembers delivery and event ids for the redelivery window (PagerDuty retries for up
 * to 48 hours), in bounded memory: when full, the oldest ids are forgotten first. Ids
 * forgotten early are still harmless: a later copy meets the per-event claim in plugin
 * data and Teleport's one-review-per-author rule.
 */
export const DEDUPE_WINDOW_MS = 48 * 3600_000;
export const DEDUPE_MAX_IDS = 100_000;

/** Delivery and event ids seen within the window (see the file comment). */
export class DeliveryLog {
  readonly #seen = new Map<string, number>();
  readonly #windowMs: number;
  readonly #maxIds: number;
  readonly #now: () => number;

  constructor(options: { windowMs?: number; maxIds?: number; now?: () => number } = {}) {
    this.#windowMs = options.windowMs ?? DEDUPE_WINDOW_MS;
    this.#maxIds = options.maxIds ?? DEDUPE_MAX_IDS;
    this.#now = options.now ?? Date.now;
  }

  /** True the first time any of `ids` is offered within the window; records them all. */
  firstSighting(ids: readonly string[]): boolean {
    const now = this.#now();
    this.#expire(now);
    const wanted = ids.filter((id) => id !== "");
    if (wanted.some((id) => this.#seen.has(id))) return false;
    for (const id of wanted) this.#seen.set(id, now + this.#windowMs);
    while (this.#seen.size > this.#maxIds) this.#seen.delete(this.#seen.keys().next().value!);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Ids are inserted in time order, so expired ones sit at the front. */
  #expire(now: number): void {
    for (const [id, until] of this.#seen) {
      if (until > now) return;
      this.#seen.delete(id);
    }
  }
}
