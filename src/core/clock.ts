/**
 * Time for the core: wall-clock milliseconds (leases are compared across
 * processes) and cancellable sleeps. Injectable, so core tests run on a virtual clock.
 */
import { sleep } from "../ops/backoff.ts";

export interface Clock {
  /** Unix milliseconds. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = { now: () => Date.now(), sleep };
