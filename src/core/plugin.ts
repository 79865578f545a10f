/**
 * The access-request lifecycle: watches Teleport, hands each event to the
 * reconciler in per-request order, retries what failed, and after every
 * (re)connect resyncs what may have been missed while disconnected or stopped.
 */
import type { AccessRequest } from "./types.ts";
import { type BackoffBounds, decorrelatedJitter } from "../ops/backoff.ts";
import type { IncidentBackend } from "./backend.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { type RequestView, viewId } from "./plan.ts";
import { decodePluginState } from "./plugin_data.ts";
import type { AccessRequestSource, WatchSource } from "./ports.ts";
import { type Outcome, Reconciler } from "./reconciler.ts";
import { PluginStateStore } from "./state_store.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("core");

export interface PluginOptions {
  teleport: AccessRequestSource & WatchSource;
  backend: IncidentBackend;
  /** Unique per process; names this instance's leases. */
  instanceId: string;
  requestLink(requestId: string): string | undefined;
  /** Requests processed at once (the Go plugin's 128). */
  concurrency?: number;
  leaseTtlMs?: number;
  /** Delays between attempts for a request whose side effects failed. */
  retryBackoff?: BackoffBounds;
}

export interface PluginStats {
  /** Passes that failed and were scheduled again. */
  failures: number;
}

/** What a readiness probe reports. */
export interface PluginHealth {
  /** The watch is open: events flow (false before the first INIT and while reconnecting). */
  watching: boolean;
  /** Why not watching, when not. */
  reason?: string;
  /** Work queued or running. */
  backlog: number;
  /** Requests waiting for a retry after a failure or a peer's lease. */
  retrying: number;
}

/** A minute at most between attempts: an outage costs at most a minute once it ends. */
const DEFAULT_RETRY: BackoffBounds = { baseMs: 1_000, capMs: 60_000 };
/** The Go plugin's per-event handler budget; a killed instance's requests are taken over after it. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

export class AccessRequestPlugin {
  readonly stats: PluginStats = { failures: 0 };
  /** Resolves at the first INIT: the watch is live and the first resync has started. */
  readonly ready: Promise<void>;
  readonly #opts: PluginOptions;
  readonly #queue: KeyedQueue;
  readonly #reconciler: Reconciler;
  readonly #retries = new Map<string, { timer: ReturnType<typeof setTimeout>; delayMs: number }>();
  readonly #retryBackoff: BackoffBounds;
  #markReady!: () => void;
  #stopped = false;
  #lostReason: string | undefined = "not connected to Teleport yet";

  constructor(opts: PluginOptions) {
    this.#opts = opts;
    this.#queue = new KeyedQueue(opts.concurrency ?? 128);
    this.#retryBackoff = opts.retryBackoff ?? DEFAULT_RETRY;
    this.#reconciler = new Reconciler({
      store: new PluginStateStore(opts.teleport, opts.backend.pluginName),
      teleport: opts.teleport,
      backend: opts.backend,
      instanceId: opts.instanceId,
      leaseTtlMs: opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      requestLink: opts.requestLink,
    });
    this.ready = new Promise((resolve) => this.#markReady = resolve);
  }

  /** Runs until the signal aborts, then finishes the work in hand. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      for await (const event of this.#opts.teleport.watch(["access_request"], signal)) {
        if (event.type === "init") this.#onInit(event.confirmedKinds, signal);
        else if (event.type === "lost") this.#lostReason = `reconnecting to Teleport: ${event.reason}`;
        else if (event.type === "put") this.#enqueue({ kind: "live", request: event.request });
        else if (event.kind === "access_request") this.#enqueue({ kind: "gone", id: event.id });
      }
    } finally {
      this.#stopped = true;
      for (const { timer } of this.#retries.values()) clearTimeout(timer);
      this.#retries.clear();
      await this.#queue.idle();
    }
  }

  /** Work queued or running (for tests, benchmarks and health). */
  get backlog(): number {
    return this.#queue.size;
  }

  health(): PluginHealth {
    const watching = !this.#stopped && this.#lostReason === undefined;
    return {
      watching,
      ...(watching ? {} : { reason: this.#stopped ? "shutting down" : this.#lostReason }),
      backlog: this.#queue.size,
      retrying: this.#retries.size,
    };
  }

  #onInit(confirmedKinds: string[], signal: AbortSignal): void {
    if (!confirmedKinds.includes("access_request")) {
      throw new Error("failed to initialize watcher for all the required resources: access_request");
    }
    log.debug("Watcher connected");
    this.#lostReason = undefined;
    this.#markReady();
    this.#resync(signal).catch((error) => {
      log.error("Resync failed, will try again: {error}", { error: String(error) });
      this.#scheduleResync(signal);
    });
  }

  /** Pending requests without an incident, and open incidents of finished requests. */
  async #resync(signal: AbortSignal): Promise<void> {
    const pending = await this.#opts.teleport.listPendingRequests();
    for (const request of pending) this.#enqueue({ kind: "live", request });
    const seen = new Set(pending.map((r: AccessRequest) => r.id));
    const entries = await this.#opts.teleport.listPluginData(this.#opts.backend.pluginName);
    let unfinished = 0;
    for (const { requestId, data } of entries) {
      if (signal.aborted || seen.has(requestId) || decodePluginState(data).resolution !== "") continue;
      unfinished += 1;
      this.#enqueueFetch(requestId);
    }
    log.info("Resynced with Teleport", {
      pending_requests: pending.length,
      unfinished_incidents: unfinished,
    });
  }

  #scheduleResync(signal: AbortSignal): void {
    const timer = setTimeout(() => {
      if (signal.aborted) return;
      this.#resync(signal).catch(() => this.#scheduleResync(signal));
    }, decorrelatedJitter(this.#retryBackoff.baseMs, this.#retryBackoff));
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }

  #enqueue(view: RequestView): void {
    const id = viewId(view);
    this.#queue.push(id, () => this.#process(view));
  }

  /** Re-reads the request first: a retry must act on what Teleport says now. */
  #enqueueFetch(requestId: string): void {
    this.#queue.push(requestId, async () => {
      let request: AccessRequest | null;
      try {
        request = await this.#opts.teleport.getRequest(requestId);
      } catch (error) {
        this.#onOutcome(requestId, { status: "failed", error });
        return;
      }
      await this.#process(request ? { kind: "live", request } : { kind: "gone", id: requestId });
    });
  }

  async #process(view: RequestView): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.#reconciler.reconcile(view);
    } catch (error) {
      outcome = { status: "failed", error };
    }
    this.#onOutcome(viewId(view), outcome, view);
  }

  #onOutcome(requestId: string, outcome: Outcome, view?: RequestView): void {
    if (outcome.status === "done") {
      this.#clearRetry(requestId);
      if (view && (view.kind === "gone" || view.request.state !== "PENDING")) {
        this.#reconciler.forget(requestId);
      }
      return;
    }
    if (outcome.status === "leased") {
      // A peer holds the request; look again when its lease ends in case it died.
      this.#scheduleRetry(
        requestId,
        outcome.retryInMs + decorrelatedJitter(0, { baseMs: 100, capMs: 1_000 }),
      );
      return;
    }
    this.stats.failures += 1;
    const previous = this.#retries.get(requestId)?.delayMs ?? 0;
    const delayMs = decorrelatedJitter(previous, this.#retryBackoff);
    log.error("Failed to process request, will retry in {delay_ms} ms: {error}", {
      request_id: requestId,
      delay_ms: Math.round(delayMs),
      error: describe(outcome.error),
    });
    this.#scheduleRetry(requestId, delayMs);
  }

  #scheduleRetry(requestId: string, delayMs: number): void {
    if (this.#stopped) return;
    const existing = this.#retries.get(requestId);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      if (!this.#stopped) this.#enqueueFetch(requestId);
    }, delayMs);
    this.#retries.set(requestId, { timer, delayMs });
  }

  #clearRetry(requestId: string): void {
    const existing = this.#retries.get(requestId);
    if (!existing) return;
    clearTimeout(existing.timer);
    this.#retries.delete(requestId);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
