/**
 * Time source for the rate limiter, retries and cache. Injectable so tests can drive
 * time by hand instead of sleeping.
 */
import { sleep } from "../ops/backoff.ts";

export interface Clock {
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep,
};
