/** Virtual time for the HTTP tests: sleeps are queued and fire only when the test moves time. */
import type { Clock } from "../../src/http/clock.ts";

interface Timer {
  at: number;
  fire: () => void;
}

export class VirtualClock implements Clock {
  #now = 0;
  #timers: Timer[] = [];
  #watchers: { count: number; resolve: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = { at: this.#now + Math.max(0, ms), fire: resolve };
      signal?.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
      this.#timers.push(timer);
      this.#notify();
    });
  }

  /** How many sleeps are pending, and until when. */
  get sleepers(): number[] {
    return this.#timers.map((t) => t.at).sort((a, b) => a - b);
  }

  /** Resolves once at least `count` sleeps are pending (the code under test is blocked on time). */
  whenSleeping(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.#watchers.push({ count, resolve });
      this.#notify();
    });
  }

  /** Moves time to `at`, firing due timers in order and letting woken tasks run in between. */
  async advanceTo(at: number): Promise<void> {
    await flush();
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > at) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fire();
      await flush();
    }
    this.#now = Math.max(this.#now, at);
  }

  /** Fires every timer in order until none is left. */
  run(): Promise<void> {
    return this.advanceTo(Infinity);
  }

  #notify(): void {
    this.#watchers = this.#watchers.filter((w) => {
      if (this.#timers.length < w.count) return true;
      w.resolve();
      return false;
    });
  }
}

/** Lets promise chains woken by a timer run to completion (they only use microtasks). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
