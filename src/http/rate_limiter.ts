import { type Clock, systemClock } from "./clock.ts";

/**
 * Client-side token bucket shared by every call of one client, so that a burst of
 * access requests never pushes the API key past PagerDuty's per-minute budget
 * (about 960 requests per minute per key).
 *
 * Callers reserve a token immediately (the balance may go negative) and then sleep
 * until their reservation matures. This keeps waiters in FIFO order without a queue
 * and bounds any window of `w` ms to `burst + rate * w` requests.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  /**
   * @param ratePerMinute sustained rate.
   * @param burst bucket size; defaults to one second's worth of the rate, which keeps
   *   any minute-long window within rate + rate/60 even right after an idle period.
   */
  constructor(ratePerMinute: number, options: { burst?: number; clock?: Clock } = {}) {
    if (!(ratePerMinute > 0)) throw new RangeError(`rate limit must be positive, got ${ratePerMinute}`);
    this.#ratePerMs = ratePerMinute / 60_000;
    this.#burst = Math.max(1, options.burst ?? Math.ceil(ratePerMinute / 60));
    this.#clock = options.clock ?? systemClock;
    this.#tokens = this.#burst;
    this.#updatedAt = this.#clock.now();
  }

  /** Waits until the caller may send one request. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.#reserve();
    if (wait > 0) await this.#clock.sleep(wait, signal);
  }

  /** Books one token and returns how long to wait for it (0 when available now). */
  #reserve(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : -this.#tokens / this.#ratePerMs;
  }
}
