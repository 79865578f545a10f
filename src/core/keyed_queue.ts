/**
 * Runs jobs one at a time per key, in arrival order, with a global cap on how many
 * keys run at once: events of one request stay ordered, different requests overlap.
 */
export class KeyedQueue {
  readonly #limit: number;
  readonly #pending = new Map<string, Array<() => Promise<void>>>();
  readonly #ready: string[] = [];
  #running = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** Jobs must not throw; a throwing job is treated as finished. */
  push(key: string, job: () => Promise<void>): void {
    const queue = this.#pending.get(key);
    if (queue) {
      queue.push(job);
      return;
    }
    this.#pending.set(key, [job]);
    this.#ready.push(key);
    this.#pump();
  }

  /** Jobs queued or running. */
  get size(): number {
    let total = 0;
    for (const queue of this.#pending.values()) total += queue.length;
    return total;
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running < this.#limit && this.#ready.length > 0) {
      const key = this.#ready.shift()!;
      this.#running += 1;
      this.#drain(key).finally(() => {
        this.#running -= 1;
        this.#pump();
        if (this.#pending.size === 0) this.#wakeIdle();
      });
    }
  }

  async #drain(key: string): Promise<void> {
    const queue = this.#pending.get(key)!;
    while (queue.length > 0) {
      try {
        await queue[0]();
      } catch {
        // Jobs report their own failures; the queue only keeps order.
      }
      queue.shift();
    }
    this.#pending.delete(key);
  }

  #wakeIdle(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
