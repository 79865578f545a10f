/** Retry delays shared by every retry loop in the program. */

export interface BackoffBounds {
  baseMs: number;
  capMs: number;
}

/**
 * Decorrelated jitter (the scheme Teleport's plugins use): a random delay between
 * the base and three times the previous delay, capped. Spreads retries of many
 * clients without synchronising them.
 */
export function decorrelatedJitter(previousMs: number, bounds: BackoffBounds, random = Math.random): number {
  const upper = Math.max(bounds.baseMs, previousMs * 3);
  return Math.min(bounds.capMs, bounds.baseMs + random() * (upper - bounds.baseMs));
}

/** Consecutive decorrelated-jitter delays; `reset` after a success starts again from the base. */
export class DecorrelatedBackoff {
  readonly #bounds: BackoffBounds;
  readonly #random: () => number;
  #previous: number;

  constructor(baseMs: number, capMs: number, random: () => number = Math.random) {
    this.#bounds = { baseMs, capMs };
    this.#random = random;
    this.#previous = baseMs;
  }

  next(): number {
    this.#previous = decorrelatedJitter(this.#previous, this.#bounds, this.#random);
    return this.#previous;
  }

  reset(): void {
    this.#previous = this.#bounds.baseMs;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
