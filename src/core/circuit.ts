/**
 * One circuit for the Auth Service: when Teleport is unreachable, every pass waits
 * here instead of each request retrying on its own. The circuit opens when a call
 * fails as unavailable or the watch is lost; it closes when the watch is back (INIT)
 * or, half-open, after a backoff that grows while failures continue, so one pass
 * can probe.
 */
import { type BackoffBounds, decorrelatedJitter } from "../ops/backoff.ts";
import type { Clock } from "./clock.ts";

const PROBE_BACKOFF: BackoffBounds = { baseMs: 500, capMs: 30_000 };

export class TeleportCircuit {
  readonly #clock: Clock;
  readonly #bounds: BackoffBounds;
  #open = false;
  #reason = "";
  #previousDelay = 0;
  #waiters: Array<() => void> = [];
  #probe?: AbortController;

  constructor(clock: Clock, bounds: BackoffBounds = PROBE_BACKOFF) {
    this.#clock = clock;
    this.#bounds = bounds;
  }

  /** Why the circuit is open, or undefined when closed. */
  get openReason(): string | undefined {
    return this.#open ? this.#reason : undefined;
  }

  /** Teleport failed: hold passes until it is back or a probe is due. */
  trip(reason: string): void {
    this.#reason = reason;
    if (this.#open) return;
    this.#open = true;
    this.#previousDelay = decorrelatedJitter(this.#previousDelay, this.#bounds);
    this.#probe = new AbortController();
    this.#clock.sleep(this.#previousDelay, this.#probe.signal).then(() => this.#release(), () => {});
  }

  /** Teleport answered: let everything through and start the backoff afresh. */
  close(): void {
    this.#previousDelay = 0;
    this.#release();
  }

  /** Resolves when passes may talk to Teleport; rejects when `signal` aborts first. */
  ready(signal: AbortSignal): Promise<void> {
    if (!this.#open) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(signal.reason);
      };
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#waiters.push(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #release(): void {
    this.#probe?.abort();
    this.#probe = undefined;
    this.#open = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
