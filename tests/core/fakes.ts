/**
 * In-memory ports for core tests: a Teleport with Teleport's plugin-data CAS rule
 * and a pushable watch, a scriptable backend, and a virtual clock. No network, no
 * real time: tests advance the clock and wait for conditions, never for durations.
 */
import type { Backend, Note, Notification, OnCallResult, RequestRecipients } from "../../src/core/backend.ts";
import type { Clock } from "../../src/core/clock.ts";
import { ConflictError } from "../../src/core/errors.ts";
import type {
  AccessRequestSource,
  ReviewResult,
  ReviewSubmission,
  WatchSource,
} from "../../src/core/ports.ts";
import { emptyState, type PluginState } from "../../src/core/state.ts";
import type { AccessRequest, PluginDataMap, WatchEvent } from "../../src/core/types.ts";

/** A clock that moves only when told to. */
export class VirtualClock implements Clock {
  #now = 1_700_000_000_000;
  #timers: Array<{ at: number; fire: () => void }> = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const timer = { at: this.#now + Math.max(0, ms), fire: () => resolve() };
      this.#timers.push(timer);
      signal?.addEventListener("abort", () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Moves time forward, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    while (true) {
      await settle();
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fire();
    }
    this.#now = end;
    await settle();
  }
}

/** Lets every ready promise continuation and I/O-free task run (macrotask turns, no timed wait). */
export async function settle(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => queueMicrotask(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Waits, turn by turn, until `condition` holds; fails after `turns` turns (not a time). */
export async function until(what: string, condition: () => boolean, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await settle(2);
  }
  throw new Error(`never happened: ${what}`);
}

/** A pending access request for tests. */
export function pendingRequest(id: string, overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id,
    user: `${id}@example.com`,
    roles: ["editor"],
    state: "PENDING",
    created: new Date(1_700_000_000_000),
    requestReason: "",
    resolveReason: "",
    systemAnnotations: { notify: ["svc-a"] },
    reviews: [],
    suggestedReviewers: [],
    ...overrides,
  };
}

type Hook = (requestId: string) => Promise<void> | void;

/** Teleport in memory: requests, plugin data with Teleport's CAS rule, reviews, a watch per subscriber. */
export class MemoryTeleport implements AccessRequestSource, WatchSource {
  readonly requests = new Map<string, AccessRequest>();
  readonly data = new Map<string, PluginDataMap>();
  readonly calls = { get: 0, update: 0, list: 0, listPluginData: 0, getRequest: 0, review: 0, conflicts: 0 };
  readonly reviews: Array<{ id: string; review: ReviewSubmission }> = [];
  /** Throw this from every call while set (e.g. an unavailable error). */
  down: Error | undefined;
  /** Runs before each updatePluginData (e.g. to make a concurrent write). */
  beforeUpdate: Hook | undefined;
  /** Answers submitReview with this error when set. */
  reviewError: Error | undefined;
  #subscribers: Array<(event: WatchEvent) => void> = [];

  add(request: AccessRequest, emit = true): void {
    this.requests.set(request.id, request);
    if (emit) this.emit({ type: "put", request });
  }

  emit(event: WatchEvent): void {
    for (const push of this.#subscribers) push(event);
  }

  #check(): void {
    if (this.down) throw this.down;
  }

  getPluginData(requestId: string): Promise<PluginDataMap | null> {
    this.calls.get += 1;
    this.#check();
    const found = this.data.get(requestId);
    return Promise.resolve(found ? { ...found } : null);
  }

  async updatePluginData(
    requestId: string,
    _plugin: string,
    set: PluginDataMap,
    expect: PluginDataMap,
  ): Promise<void> {
    this.calls.update += 1;
    this.#check();
    await this.beforeUpdate?.(requestId);
    const stored = this.data.get(requestId) ?? {};
    for (const [key, value] of Object.entries(expect)) {
      if ((stored[key] ?? "") !== value) {
        this.calls.conflicts += 1;
        throw new ConflictError(`expectations not met for field "${key}"`);
      }
    }
    const next = { ...stored };
    for (const [key, value] of Object.entries(set)) {
      if (value === "") delete next[key];
      else next[key] = value;
    }
    if (Object.keys(next).length === 0) this.data.delete(requestId);
    else this.data.set(requestId, next);
  }

  submitReview(requestId: string, review: ReviewSubmission): Promise<ReviewResult> {
    this.calls.review += 1;
    this.#check();
    if (this.reviewError) return Promise.reject(this.reviewError);
    this.reviews.push({ id: requestId, review });
    return Promise.resolve("submitted");
  }

  async *pendingRequests(): AsyncIterable<AccessRequest[]> {
    this.calls.list += 1;
    this.#check();
    const pending = [...this.requests.values()].filter((r) => r.state === "PENDING");
    for (let i = 0; i < pending.length; i += 500) yield pending.slice(i, i + 500);
  }

  listPluginData(): Promise<Array<{ requestId: string; data: PluginDataMap }>> {
    this.calls.listPluginData += 1;
    this.#check();
    return Promise.resolve([...this.data].map(([requestId, data]) => ({ requestId, data: { ...data } })));
  }

  getRequest(requestId: string): Promise<AccessRequest | null> {
    this.calls.getRequest += 1;
    this.#check();
    return Promise.resolve(this.requests.get(requestId) ?? null);
  }

  /** INIT first, then pushed events, until the signal aborts. */
  async *watch(kinds: string[], signal: AbortSignal): AsyncIterable<WatchEvent> {
    const queue: WatchEvent[] = [{ type: "init", confirmedKinds: kinds }];
    let wake: (() => void) | undefined;
    const push = (event: WatchEvent) => {
      queue.push(event);
      wake?.();
    };
    this.#subscribers.push(push);
    signal.addEventListener("abort", () => wake?.(), { once: true });
    try {
      while (!signal.aborted) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        await new Promise<void>((resolve) => wake = resolve);
        wake = undefined;
      }
    } finally {
      this.#subscribers = this.#subscribers.filter((p) => p !== push);
    }
  }

  state(requestId: string): PluginDataMap | undefined {
    return this.data.get(requestId);
  }
}

/** A JSON plugin-data codec: the core's state in one key, so tests read it back easily. */
export const jsonCodec: Backend["codec"] = {
  encode: (state: PluginState) => ({ state: JSON.stringify(state) }),
  decode: (data: PluginDataMap) => ({ ...emptyState(), ...JSON.parse(data.state ?? "{}") }),
};

/** A backend in memory: one notification per recipient; every call recorded; failures scripted. */
export class MemoryBackend implements Backend {
  readonly pluginName = "memory";
  readonly notificationNoun = "memory incident";
  readonly codec = jsonCodec;
  readonly notified: Array<{ key: string; requestId: string }> = [];
  readonly notes = new Map<string, string[]>();
  readonly resolved: string[] = [];
  readonly onCallChecks: string[] = [];
  /** Called at the start of each call: throw to fail it, or block on a promise. */
  hooks: Partial<
    Record<"notify" | "annotate" | "resolve" | "findOnCall", (arg: string) => Promise<void> | void>
  > = {};
  onCall = false;
  #nextId = 1;

  recipientsOf(request: AccessRequest): RequestRecipients {
    return {
      notify: request.systemAnnotations.notify ?? [],
      approval: request.systemAnnotations.approve ?? [],
      skipped: [],
    };
  }

  notificationKeys(recipients: string[]): string[] {
    return recipients;
  }

  async notify(
    key: string,
    _r: string[],
    request: AccessRequest,
    _link: string | undefined,
    signal: AbortSignal,
  ): Promise<Notification> {
    // Like fetch, the call ends when its signal aborts, whatever the hook does.
    await abortable(this.hooks.notify?.(`${request.id}/${key}`), signal);
    // Idempotent by (request, key), like PagerDuty's incident_key.
    const existing = this.notified.find((n) => n.key === key && n.requestId === request.id);
    if (!existing) this.notified.push({ key, requestId: request.id });
    return { key, ids: { id: `${request.id}/${key}`, n: String(existing ? 0 : this.#nextId++) } };
  }

  async annotate(notification: Notification, note: Note, options: { unlessPosted: boolean }): Promise<void> {
    const id = notification.ids.id;
    const text = note.kind === "review"
      ? `review ${note.review.author}`
      : note.kind === "resolution"
      ? `resolution ${note.resolution.tag}`
      : `would approve: ${note.reason}`;
    const notes = this.notes.get(id) ?? [];
    if (options.unlessPosted && notes.includes(text)) return;
    await this.hooks.annotate?.(id);
    notes.push(text);
    this.notes.set(id, notes);
  }

  async resolve(notification: Notification): Promise<void> {
    await this.hooks.resolve?.(notification.ids.id);
    this.resolved.push(notification.ids.id);
  }

  async findOnCall(request: AccessRequest): Promise<OnCallResult> {
    this.onCallChecks.push(request.id);
    await this.hooks.findOnCall?.(request.id);
    return this.onCall
      ? { onCall: true, reason: `${request.user} is on call` }
      : { onCall: false, why: "no" };
  }

  healthCheck(): Promise<void> {
    return Promise.resolve();
  }

  logFields(notification: Notification): Record<string, string> {
    return { memory_id: notification.ids.id };
  }
}

/** `work`, or the signal's reason as soon as it aborts. */
function abortable(work: Promise<void> | void, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(work).then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** A promise with its resolver, for blocking a call until the test says so. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => open = resolve);
  return { promise, open };
}
