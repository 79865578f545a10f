/**
 * A circuit in front of a dependency (the Auth Service, the backend's API): when it
 * fails, every pass waits here instead of each request retrying on its own schedule.
 * The circuit opens on a failure; after a backoff that grows while failures continue it
 * turns half-open and lets exactly one pass through as a probe. The probe's success (or
 * an outside signal such as the watch's INIT) closes it and releases everyone; the
 * probe's failure opens it again for longer.
 */
import { type BackoffBounds, decorrelatedJitter } from "../ops/backoff.ts";
import type { Clock } from "./clock.ts";

const PROBE_BACKOFF: BackoffBounds = { baseMs: 500, capMs: 30_000 };

type State = "closed" | "open" | "half-open";

export class Circuit {
  readonly #clock: Clock;
  readonly #bounds: BackoffBounds;
  #state: State = "closed";
  #reason = "";
  #previousDelay = 0;
  #waiters: Array<(probe: boolean) => void> = [];
  #timer?: AbortController;

  constructor(clock: Clock, bounds: BackoffBounds = PROBE_BACKOFF) {
    this.#clock = clock;
    this.#bounds = bounds;
  }

  /** Why the circuit is not closed, or undefined when it is. */
  get openReason(): string | undefined {
    return this.#state === "closed" ? undefined : this.#reason;
  }

  /** The dependency failed: hold passes until it is back or a probe is due. */
  trip(reason: string): void {
    this.#reason = reason;
    if (this.#state === "open") return;
    this.#state = "open";
    this.#previousDelay = decorrelatedJitter(this.#previousDelay, this.#bounds);
    this.#timer?.abort();
    this.#timer = new AbortController();
    this.#clock.sleep(this.#previousDelay, this.#timer.signal).then(() => this.#halfOpen(), () => {});
  }

  /** The dependency answered: let everything through and start the backoff afresh. */
  close(): void {
    this.#previousDelay = 0;
    this.#timer?.abort();
    this.#timer = undefined;
    this.#state = "closed";
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake(false);
  }

  /**
   * Resolves when a pass may go on: at once when closed, otherwise when it closes, or
   * with `true` for the one pass let through as the probe when half-open (the caller
   * then reports its verdict with `close` or `trip`, or `probeDone` when it had none).
   */
  ready(signal: AbortSignal): Promise<boolean> {
    if (this.#state === "closed") return Promise.resolve(false);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        reject(signal.reason);
      };
      const wake = (probe: boolean) => {
        signal.removeEventListener("abort", onAbort);
        resolve(probe);
      };
      this.#waiters.push(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** A probe ended without telling anything about the dependency: the next waiter probes. */
  probeDone(): void {
    if (this.#state === "half-open") this.#halfOpen();
  }

  /** One waiter goes through as the probe; the rest wait for its verdict. */
  #halfOpen(): void {
    this.#state = "half-open";
    const probe = this.#waiters.shift();
    if (probe) probe(true);
    else this.close(); // nobody is waiting: the next pass is the probe
  }
}
