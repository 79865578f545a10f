/** Retry delays shared by every retry loop in the program. */

export interface BackoffBounds {
  baseMs: number;
  capMs: number;
}

/**
 * Decorrelated jitter: a random delay between the base and three times the
 * previous delay, capped. Spreads retries of many clients without synchronising them.
 */
export function decorrelatedJitter(previousMs: number, bounds: BackoffBounds): number {
  const upper = Math.max(bounds.baseMs, previousMs * 3);
  return Math.min(bounds.capMs, bounds.baseMs + Math.random() * (upper - bounds.baseMs));
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
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
