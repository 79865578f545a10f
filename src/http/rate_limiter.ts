import { type Clock, systemClock } from "./clock.ts";

/**
 * The one gate every call of a client passes before it is sent: a token bucket that
 * paces calls within the configured rate, and that the server can close.
 *
 * Pacing: callers reserve a token immediately (the balance may go negative) and sleep
 * until their reservation matures. This keeps waiters in FIFO order without a queue
 * and bounds any window of `w` ms to `burst + rate * w` requests.
 *
 * Closing: when the server says the key has nothing left until `t` (`observe`: a
 * `ratelimit-remaining: 0` answer, or a 429 with `ratelimit-reset` / `Retry-After`),
 * the gate closes until `t`. Every call waits for `t` — those already waiting, those that
 * already hold a reservation and new ones alike — so the client stops as a whole
 * instead of each call hammering the API on its own schedule. The bucket keeps
 * refilling while closed (as when idle), so at `t` at most `burst` calls go at once and
 * the rest follow at the paced rate.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;
  /** When the server allows calls again (0: open). */
  #closedUntil = 0;
  /** Bumped on every closing; a reservation from an older epoch is void. */
  #epoch = 0;
  /** The earliest moment the server's current window is known to end by (see `observe`). */
  #windowEnd = 0;

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

  /** Waits until the caller may send one request: the gate is open and its token is due. */
  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const epoch = this.#epoch;
      const wait = this.#reserve();
      if (wait > 0) {
        try {
          await this.#clock.sleep(wait, signal);
        } catch (err) {
          // A caller that gives up does not spend its token: the next one gets it.
          if (epoch === this.#epoch) this.#tokens += 1;
          throw err;
        }
      }
      // Closed while this caller waited: its reservation is void, queue again behind the gate.
      if (epoch === this.#epoch) return;
    }
  }

  /**
   * Identifies the gate's current opening; read it when a call is sent and pass it to
   * `closeUntil` with that call's 429.
   */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Closes the gate until `at` (clock time): no call starts before then. Never shortens
   * an existing closing. With `sentIn` (the `epoch` when the refused call was sent), a
   * refusal of a call sent before the gate last closed changes nothing: it hit the same
   * exhausted window, and its later (rounded) reset would only delay everyone.
   */
  closeUntil(at: number, sentIn?: number): void {
    if (sentIn !== undefined && sentIn !== this.#epoch) return;
    if (at <= this.#closedUntil || at <= this.#clock.now()) return;
    const now = this.#clock.now();
    this.#closedUntil = at;
    this.#epoch++;
    // Outstanding reservations are void (their holders reserve again), and the bucket
    // refills while the gate is closed, as it does when the client is idle.
    const held = Math.max(0, Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs));
    this.#tokens = Math.min(this.#burst, held + (at - now) * this.#ratePerMs);
    this.#updatedAt = at;
  }

  /**
   * Reads the rate-limit part of an answer to a call sent in epoch `sentIn`:
   * `resetInMs` (from `ratelimit-reset` / `Retry-After`), `remaining` (from
   * `ratelimit-remaining`) and whether it was a 429. When the server has nothing left
   * (remaining 0, or a refusal), the gate closes until the window ends.
   *
   * Resets come in whole seconds, so each one only bounds the window's end from above;
   * the tightest bound (the smallest `now + resetInMs` seen in this window) is kept,
   * which is what lets the gate open close to the real reset instead of up to a second
   * late. Answers to calls sent before the last closing belong to an older window and
   * are ignored.
   */
  observe(answer: { resetInMs?: number; remaining?: number; refused: boolean }, sentIn: number): void {
    if (sentIn !== this.#epoch || answer.resetInMs === undefined) return;
    const now = this.#clock.now();
    const end = now + answer.resetInMs;
    this.#windowEnd = this.#windowEnd > now ? Math.min(this.#windowEnd, end) : end;
    if (answer.refused || answer.remaining === 0) this.closeUntil(this.#windowEnd, sentIn);
  }

  /** When the gate opens again, or 0 when it is open now. */
  get closedUntil(): number {
    return this.#closedUntil > this.#clock.now() ? this.#closedUntil : 0;
  }

  /** Books one token and returns how long to wait for it (0 when available now). */
  #reserve(): number {
    const now = this.#clock.now();
    if (now >= this.#updatedAt) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
      this.#updatedAt = now;
    }
    // Before a closing ends, the balance is counted from the opening time instead.
    this.#tokens -= 1;
    const dueAt = this.#updatedAt + (this.#tokens >= 0 ? 0 : -this.#tokens / this.#ratePerMs);
    return Math.max(0, dueAt - now);
  }
}
