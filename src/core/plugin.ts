/**
 * The access-request controller: watches Teleport, keeps one work-queue entry per
 * request, runs a bounded number of passes at once, retries with per-request
 * backoff, waits on one shared circuit while Teleport is unreachable, and after
 * every (re)connect resyncs what may have been missed.
 */
import { type BackoffBounds, decorrelatedJitter } from "../ops/backoff.ts";
import { getLog } from "../ops/logging.ts";
import type { Backend } from "./backend.ts";
import { Circuit } from "./circuit.ts";
import { type Clock, systemClock } from "./clock.ts";
import { describe, failureOf, fromBackend, isUnavailable } from "./errors.ts";
import { isPending, type RequestView } from "./plan.ts";
import type { AccessRequestSource, WatchSource } from "./ports.ts";
import { type AutoApproval, type Outcome, Reconciler } from "./reconciler.ts";
import type { RecipientRules } from "./routing.ts";
import { isFinished } from "./state.ts";
import { PluginStateStore } from "./state_store.ts";
import { type CoreTelemetry, NO_TELEMETRY } from "./telemetry.ts";
import type { WatchEvent } from "./types.ts";
import { WorkQueue } from "./work_queue.ts";

const log = getLog("core");

/** Watch kinds and handlers of other resources the composition root wants (e.g. monitoring rules). */
export interface WatchExtension {
  kinds: string[];
  /**
   * Called at every (re)connect with the kinds Teleport accepted, before the resync
   * (e.g. to re-list rules). The signal aborts after EXTENSION_INIT_BUDGET_MS.
   */
  onInit(confirmedKinds: string[], signal: AbortSignal): Promise<void>;
  /** Called for events of `kinds`. */
  onEvent(event: WatchEvent): void;
}

export interface PluginOptions {
  teleport: AccessRequestSource & WatchSource;
  backend: Backend;
  /** Unique per process; names this instance's leases. */
  instanceId: string;
  requestLink(requestId: string): string | undefined;
  /** Passes in flight at once. */
  concurrency?: number;
  leaseTtlMs?: number;
  /** A pass's time budget; shorter than the lease and the shutdown grace. */
  passBudgetMs?: number;
  /** Delays between attempts for a request whose side effects failed. */
  retryBackoff?: BackoffBounds;
  /** Delay before a request that met a permanent error is looked at again (unless it changes). */
  permanentRecheckMs?: number;
  autoApproval?: AutoApproval;
  rules?: RecipientRules;
  extension?: WatchExtension;
  telemetry?: CoreTelemetry;
  clock?: Clock;
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
  /** Requests queued, delayed or being processed. */
  backlog: number;
  /** Requests waiting for a retry after a failure or a peer's lease. */
  retrying: number;
}

/** Gauges for metrics. */
export interface QueueStats {
  queueDepth: number;
  inFlight: number;
  oldestUnprocessedAgeSeconds: number;
}

/** A minute at most between attempts: an outage costs at most a minute once it ends. */
const DEFAULT_RETRY: BackoffBounds = { baseMs: 1_000, capMs: 60_000 };
/** The Go plugin's per-event handler budget; a killed instance's requests are taken over after it. */
export const DEFAULT_LEASE_TTL_MS = 30_000;
/** Inside the lease, and well inside the 15 s shutdown grace. */
export const DEFAULT_PASS_BUDGET_MS = 10_000;
/** How long a resync waits for the extension's own listing before going on without it. */
export const EXTENSION_INIT_BUDGET_MS = 10_000;
/** Passes in flight at once by default. */
export const DEFAULT_CONCURRENCY = 64;
/** A permanent error is looked at again hourly, or when the request changes. */
export const PERMANENT_RECHECK_MS = 60 * 60_000;

export class AccessRequestPlugin {
  readonly stats: PluginStats = { failures: 0 };
  /** Resolves at the first INIT: the watch is live and the first resync has started. */
  readonly ready: Promise<void>;
  readonly #o: PluginOptions;
  readonly #clock: Clock;
  readonly #telemetry: CoreTelemetry;
  readonly #queue: WorkQueue;
  readonly #reconciler: Reconciler;
  /** Teleport unreachable: passes wait here. */
  readonly #circuit: Circuit;
  /** The backend's API failing: passes wait here too, one probing at a time. */
  readonly #backendCircuit: Circuit;
  readonly #retryBackoff: BackoffBounds;
  /** The latest view of each request with work outstanding (from events or listings). */
  readonly #views = new Map<string, RequestView>();
  /** Requests seen pending: after a reconnect, those no longer pending are looked at again. */
  readonly #open = new Set<string>();
  /** Last retry delay per request, for the per-item backoff. */
  readonly #delays = new Map<string, number>();
  /**
   * Requests whose last pass owed nothing, by what Teleport said of them then: a resync
   * that lists a request unchanged skips it (events always count, they mean a change).
   */
  readonly #settled = new Map<string, string>();
  /** The permanent error last logged per request, so each is logged once. */
  readonly #permanent = new Map<string, string>();
  #markReady!: () => void;
  #stopped = false;
  #lostReason: string | undefined = "not connected to Teleport yet";
  #signal!: AbortSignal;
  #resyncing = false;
  #resyncAgain = false;
  #sweptPluginData = false;
  /** Settles when the extension's (re)connect work is done: passes route only after it. */
  #extensionReady: Promise<void> = Promise.resolve();

  constructor(opts: PluginOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#telemetry = opts.telemetry ?? NO_TELEMETRY;
    this.#retryBackoff = opts.retryBackoff ?? DEFAULT_RETRY;
    this.#circuit = new Circuit(this.#clock);
    this.#backendCircuit = new Circuit(this.#clock);
    const leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#reconciler = new Reconciler({
      store: new PluginStateStore({
        source: opts.teleport,
        pluginName: opts.backend.pluginName,
        codec: opts.backend.codec,
        onConflict: () => this.#telemetry.count("cas_conflict"),
      }),
      reviews: opts.teleport,
      backend: opts.backend,
      rules: opts.rules,
      instanceId: opts.instanceId,
      leaseTtlMs,
      passBudgetMs: Math.min(opts.passBudgetMs ?? DEFAULT_PASS_BUDGET_MS, leaseTtlMs * 0.75),
      autoApproval: opts.autoApproval ?? "on",
      requestLink: opts.requestLink,
      clock: this.#clock,
      telemetry: this.#telemetry,
    });
    this.#queue = new WorkQueue((id) => this.#pass(id), {
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      clock: this.#clock,
    });
    this.ready = new Promise((resolve) => this.#markReady = resolve);
  }

  /** Runs until the signal aborts; then drops work not started and cancels running passes. */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    const kinds = ["access_request", ...(this.#o.extension?.kinds ?? [])];
    try {
      for await (const event of this.#o.teleport.watch(kinds, signal)) {
        if (signal.aborted) break;
        this.#onEvent(event);
      }
    } finally {
      this.#stopped = true;
      await this.#queue.shutdown();
    }
  }

  /** Requests queued, delayed or running (for tests, benchmarks and health). */
  get backlog(): number {
    return this.#queue.size;
  }

  /** Readiness: whether the watch is live, and the backlog. */
  health(): PluginHealth {
    const watching = !this.#stopped && this.#lostReason === undefined;
    return {
      watching,
      ...(watching ? {} : { reason: this.#stopped ? "shutting down" : this.#lostReason }),
      backlog: this.#queue.size,
      retrying: this.#queue.delayed,
    };
  }

  /** Queue gauges for metrics. */
  queueStats(): QueueStats {
    return {
      queueDepth: this.#queue.size,
      inFlight: this.#queue.inFlight,
      oldestUnprocessedAgeSeconds: this.#queue.oldestQueuedMs() / 1000,
    };
  }

  #onEvent(event: WatchEvent): void {
    switch (event.type) {
      case "init":
        this.#telemetry.count("event", { kind: "", operation: "init" });
        return this.#onInit(event.confirmedKinds);
      case "lost":
        this.#lostReason = `reconnecting to Teleport: ${event.reason}`;
        this.#circuit.trip(event.reason);
        this.#telemetry.count("watch_reconnect");
        return;
      case "put":
        this.#telemetry.count("event", { kind: "access_request", operation: "put" });
        return this.#see({ kind: "live", request: event.request }, true);
      case "delete":
        this.#telemetry.count("event", { kind: event.kind, operation: "delete" });
        if (event.kind === "access_request") return this.#see({ kind: "gone", id: event.id }, true);
        return this.#o.extension?.onEvent(event);
      default:
        return this.#o.extension?.onEvent(event);
    }
  }

  #onInit(confirmedKinds: string[]): void {
    if (!confirmedKinds.includes("access_request")) {
      throw new Error("failed to initialize watcher for all the required resources: access_request");
    }
    log.debug("Watcher connected");
    const extension = this.#o.extension;
    if (extension) {
      const budget = AbortSignal.any([this.#signal, AbortSignal.timeout(EXTENSION_INIT_BUDGET_MS)]);
      this.#extensionReady = extension.onInit(confirmedKinds, budget).catch((error) => {
        log.warn("Watch extension failed to initialise: {error}", { error: describe(error) });
      });
    }
    this.#lostReason = undefined;
    this.#circuit.close();
    this.#markReady();
    void this.#resync();
  }

  /** Records the latest view and queues the request. */
  #see(view: RequestView, changed: boolean): void {
    const id = view.kind === "live" ? view.request.id : view.id;
    if (!changed && this.#settled.get(id) === fingerprint(view)) return;
    this.#settled.delete(id);
    this.#views.set(id, view);
    if (isPending(view)) this.#open.add(id);
    this.#queue.add(id, { changed });
  }

  /**
   * One resync at a time: a reconnect during a resync asks for one more round after it.
   * Pending requests are listed a page at a time; requests that were open before and are
   * no longer pending are looked at again; the plugin-data sweep for requests deleted
   * while no instance ran happens once per process.
   */
  async #resync(): Promise<void> {
    if (this.#resyncing) {
      this.#resyncAgain = true;
      return;
    }
    this.#resyncing = true;
    const signal = this.#signal;
    const backoff = { previous: 0 };
    try {
      do {
        this.#resyncAgain = false;
        try {
          await this.#circuit.ready(signal);
          await this.#resyncOnce(signal);
          this.#telemetry.count("resync", { outcome: "ok" });
          backoff.previous = 0;
        } catch (error) {
          if (signal.aborted) return;
          this.#telemetry.count("resync", { outcome: "failed" });
          if (isUnavailable(error)) this.#circuit.trip(describe(error));
          backoff.previous = decorrelatedJitter(backoff.previous, this.#retryBackoff);
          log.error("Resync failed, will try again in {delay_ms} ms: {error}", {
            delay_ms: Math.round(backoff.previous),
            error: describe(error),
          });
          await this.#clock.sleep(backoff.previous, signal).catch(() => {});
          this.#resyncAgain = true;
        }
      } while (this.#resyncAgain && !signal.aborted);
    } finally {
      this.#resyncing = false;
    }
  }

  async #resyncOnce(signal: AbortSignal): Promise<void> {
    await this.#extensionReady;
    const pending = new Set<string>();
    for await (const page of this.#o.teleport.pendingRequests(signal)) {
      for (const request of page) {
        pending.add(request.id);
        this.#see({ kind: "live", request }, false);
      }
    }
    let reopened = 0;
    for (const id of this.#open) {
      if (pending.has(id)) continue;
      reopened += 1;
      this.#views.delete(id);
      this.#queue.add(id);
    }
    let unfinished = 0;
    if (!this.#sweptPluginData) {
      const codec = this.#o.backend.codec;
      for (
        const { requestId, data } of await this.#o.teleport.listPluginData(this.#o.backend.pluginName, signal)
      ) {
        if (pending.has(requestId) || isFinished(codec.decode(data))) continue;
        unfinished += 1;
        this.#queue.add(requestId);
      }
      this.#sweptPluginData = true;
    }
    log.info("Resynced with Teleport", {
      pending_requests: pending.size,
      no_longer_pending: reopened,
      unfinished_requests: unfinished,
    });
  }

  /** One pass; resolves with the delay before the request must be looked at again, if any. */
  async #pass(id: string): Promise<number | undefined> {
    const signal = this.#signal;
    const started = this.#clock.now();
    let outcome: Outcome;
    let probe = false;
    let view: RequestView | undefined;
    try {
      await this.#circuit.ready(signal);
      probe = await this.#backendCircuit.ready(signal);
      await this.#extensionReady;
      view = this.#views.get(id) ?? await this.#fetch(id, signal);
      outcome = await this.#reconciler.reconcile(view, signal);
    } catch (error) {
      outcome = { status: "failed", error };
    }
    const label = signal.aborted ? "cancelled" : outcomeLabel(outcome);
    this.#telemetry.count("pass", { outcome: label });
    this.#telemetry.passSeconds((this.#clock.now() - started) / 1000, label);
    if (signal.aborted) return undefined;
    const delay = this.#after(id, outcome);
    // Settled only if no newer view arrived while the pass ran (that one is queued again).
    if (outcome.status === "done" && !outcome.finished && view && this.#views.get(id) === view) {
      this.#settled.set(id, fingerprint(view));
    }
    // A probe that neither reached the backend nor failed on it hands the probe on.
    if (probe && this.#backendCircuit.openReason !== undefined && !backendAnswered(outcome)) {
      this.#backendCircuit.probeDone();
    }
    return delay;
  }

  async #fetch(id: string, signal: AbortSignal): Promise<RequestView> {
    const request = await this.#o.teleport.getRequest(id, signal);
    const view: RequestView = request ? { kind: "live", request } : { kind: "gone", id };
    this.#views.set(id, view);
    return view;
  }

  #after(id: string, outcome: Outcome): number | undefined {
    switch (outcome.status) {
      case "done":
        if (outcome.usedBackend) this.#backendCircuit.close();
        this.#delays.delete(id);
        this.#permanent.delete(id);
        if (outcome.finished) this.#forget(id);
        return undefined;
      case "leased":
        // A peer holds the request; look again when its lease ends in case it died.
        return outcome.retryInMs + decorrelatedJitter(0, { baseMs: 100, capMs: 1_000 });
      case "permanent":
        if (this.#permanent.get(id) !== outcome.reason) {
          log.error("Cannot process request: {error}; will look again when it changes, or in an hour", {
            request_id: id,
            error: outcome.reason,
          });
          this.#permanent.set(id, outcome.reason);
        }
        this.#delays.delete(id);
        return this.#o.permanentRecheckMs ?? PERMANENT_RECHECK_MS;
      case "failed":
        return this.#afterFailure(id, outcome.error);
    }
  }

  #afterFailure(id: string, error: unknown): number {
    if (isUnavailable(error)) {
      // Everyone waits on the circuit; no per-request backoff or log line.
      this.#circuit.trip(describe(error));
      return 0;
    }
    if (fromBackend(error) && failureOf(error) === "transient") {
      // The backend's API is failing (5xx, network, rate limit beyond a call's budget):
      // everyone waits on its circuit, and one pass at a time probes it.
      if (this.#backendCircuit.openReason === undefined) {
        log.warn("The backend's API is failing; passes wait and one probes it: {error}", {
          request_id: id,
          error: describe(error),
        });
      }
      this.stats.failures += 1;
      this.#backendCircuit.trip(describe(error));
      return 0;
    }
    this.stats.failures += 1;
    const delayMs = decorrelatedJitter(this.#delays.get(id) ?? 0, this.#retryBackoff);
    this.#delays.set(id, delayMs);
    const permanent = failureOf(error) === "permanent";
    if (permanent && this.#permanent.get(id) === describe(error)) return PERMANENT_RECHECK_MS;
    log.error("Failed to process request, will retry in {delay_ms} ms: {error}", {
      request_id: id,
      delay_ms: Math.round(delayMs),
      error: describe(error),
    });
    if (permanent) {
      this.#permanent.set(id, describe(error));
      return this.#o.permanentRecheckMs ?? PERMANENT_RECHECK_MS;
    }
    return delayMs;
  }

  #forget(id: string): void {
    this.#settled.delete(id);
    this.#views.delete(id);
    this.#open.delete(id);
    this.#delays.delete(id);
    this.#permanent.delete(id);
    this.#reconciler.forget(id);
  }
}

/** What a resync compares to tell whether a request changed since its last quiet pass. */
function fingerprint(view: RequestView): string {
  if (view.kind === "gone") return "gone";
  const { state, reviews, resolveReason, systemAnnotations } = view.request;
  return JSON.stringify([state, reviews.length, resolveReason, systemAnnotations]);
}

/** Whether the pass learnt something about the backend: it answered, or it failed. */
function backendAnswered(outcome: Outcome): boolean {
  if (outcome.status === "done") return outcome.usedBackend === true;
  return outcome.status === "failed" && fromBackend(outcome.error);
}

function outcomeLabel(outcome: Outcome): string {
  if (outcome.status === "failed") return failureOf(outcome.error);
  return outcome.status;
}
