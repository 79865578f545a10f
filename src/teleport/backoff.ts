/**
 * Decorrelated-jitter backoff (the AWS "decorrelated jitter" scheme Teleport's
 * plugins use): each delay is random in [base, 3 × previous], capped. Consecutive
 * retriers spread out instead of retrying in lockstep.
 */
export class DecorrelatedBackoff {
  #previous: number;

  constructor(readonly baseMs: number, readonly capMs: number, readonly random: () => number = Math.random) {
    this.#previous = baseMs;
  }

  next(): number {
    const upper = Math.max(this.baseMs, this.#previous * 3);
    this.#previous = Math.min(this.capMs, this.baseMs + this.random() * (upper - this.baseMs));
    return this.#previous;
  }

  reset(): void {
    this.#previous = this.baseMs;
  }
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
