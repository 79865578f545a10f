/**
 * The controller's work queue, shaped like Kubernetes' workqueue and Teleport's
 * watcherjob: at most one entry per request id; an id added while its pass runs is
 * marked dirty and processed once more afterwards, never twice in parallel; a
 * bounded number of passes in flight; a per-item delay for retries. It holds ids,
 * not events. On shutdown, work not yet started is dropped.
 */
import type { Clock } from "./clock.ts";

/** Processes one id; resolves with the delay before it must be looked at again, if any. */
export type PassHandler = (id: string) => Promise<number | undefined>;

interface Entry {
  state: "queued" | "delayed" | "running";
  /** Added again while running: process once more right after. */
  dirty: boolean;
  /** When the id started waiting (for the "oldest unprocessed" figure). */
  since: number;
  /** Cancels a delayed entry's timer. */
  timer?: AbortController;
  /** When a delayed entry is due. */
  dueAt?: number;
}

export interface AddOptions {
  /**
   * The request changed (a watch event): cut short a pending retry delay. A resync
   * adds without it, so a slow recheck after a permanent error stays slow.
   */
  changed?: boolean;
}

export class WorkQueue {
  readonly #entries = new Map<string, Entry>();
  readonly #ready: string[] = [];
  readonly #limit: number;
  readonly #clock: Clock;
  readonly #handler: PassHandler;
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(handler: PassHandler, opts: { concurrency: number; clock: Clock }) {
    this.#handler = handler;
    this.#limit = Math.max(1, opts.concurrency);
    this.#clock = opts.clock;
  }

  /** Queues `id` (see AddOptions for what happens to a delayed one). */
  add(id: string, opts: AddOptions = {}): void {
    if (this.#stopped) return;
    const entry = this.#entries.get(id);
    if (!entry) {
      this.#entries.set(id, { state: "queued", dirty: false, since: this.#clock.now() });
      this.#ready.push(id);
      this.#pump();
      return;
    }
    if (entry.state === "running") entry.dirty = true;
    else if (entry.state === "delayed" && opts.changed) this.#makeReady(id, entry);
  }

  /** Queues `id` after `ms`; an earlier pending time wins. */
  addAfter(id: string, ms: number): void {
    if (this.#stopped) return;
    const entry = this.#entries.get(id);
    if (entry && entry.state !== "delayed") return;
    const dueAt = this.#clock.now() + ms;
    if (entry && entry.dueAt !== undefined && entry.dueAt <= dueAt) return;
    entry?.timer?.abort();
    this.#delay(id, ms, entry?.since ?? this.#clock.now());
  }

  /** Ids waiting, delayed or running. */
  get size(): number {
    return this.#entries.size;
  }

  /** Passes running now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Ids waiting for a retry delay. */
  get delayed(): number {
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.state === "delayed") count += 1;
    return count;
  }

  /** Age in ms of the oldest id that is queued (not delayed, not running); 0 when none. */
  oldestQueuedMs(): number {
    const first = this.#ready[0];
    return first === undefined ? 0 : this.#clock.now() - this.#entries.get(first)!.since;
  }

  /** Drops work not yet started and waits for running passes (abort them through their signal). */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    this.#ready.length = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.state === "running") continue;
      entry.timer?.abort();
      this.#entries.delete(id);
    }
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  #delay(id: string, ms: number, since: number): void {
    const timer = new AbortController();
    const entry: Entry = { state: "delayed", dirty: false, since, timer, dueAt: this.#clock.now() + ms };
    this.#entries.set(id, entry);
    this.#clock.sleep(ms, timer.signal).then(
      () => this.#entries.get(id) === entry && this.#makeReady(id, entry),
      () => {/* cancelled: replaced, made ready, or shut down */},
    );
  }

  #makeReady(id: string, entry: Entry): void {
    entry.timer?.abort();
    entry.timer = undefined;
    entry.dueAt = undefined;
    entry.state = "queued";
    this.#ready.push(id);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#limit && this.#ready.length > 0) {
      const id = this.#ready.shift()!;
      const entry = this.#entries.get(id);
      if (!entry || entry.state !== "queued") continue;
      entry.state = "running";
      const pass: Promise<void> = this.#run(id, entry).finally(() => {
        this.#running.delete(pass);
        this.#pump();
      });
      this.#running.add(pass);
    }
  }

  async #run(id: string, entry: Entry): Promise<void> {
    let retryInMs: number | undefined;
    try {
      retryInMs = await this.#handler(id);
    } catch {
      // The handler reports its own failures; a throw means "look again soon".
      retryInMs = 1_000;
    }
    this.#entries.delete(id);
    if (this.#stopped) return;
    if (entry.dirty) this.add(id);
    else if (retryInMs !== undefined) this.#delay(id, retryInMs, entry.since);
  }
}
