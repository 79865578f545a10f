/**
 * Brings one access request's notifications up to date: opens what is missing,
 * runs the auto-approval check, posts review notes, resolves. Progress is recorded
 * in plugin data under a lease, so each side effect happens once across a fleet and
 * a failed or interrupted pass is finished by a later one.
 */
import type { Backend, NoteOptions, Notification, Resolution } from "./backend.ts";
import type { Clock } from "./clock.ts";
import { describe, failureOf, markBackend } from "./errors.ts";
import { formatLease, leaseWait, parseLease } from "./lease.ts";
import { isIdle, isPending, planWork, type RequestView, viewId, type WorkPlan } from "./plan.ts";
import type { AccessRequestSource } from "./ports.ts";
import type { RecipientRules } from "./routing.ts";
import { emptyState, isFinished, type PluginState } from "./state.ts";
import type { PluginStateStore, Snapshot } from "./state_store.ts";
import type { CoreTelemetry } from "./telemetry.ts";
import type { AccessRequest } from "./types.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("core");

/** Whether the plugin approves requesters on call: "dry-run" only says it would. */
export type AutoApproval = "on" | "off" | "dry-run";

export interface ReconcilerOptions {
  store: PluginStateStore;
  reviews: Pick<AccessRequestSource, "submitReview">;
  backend: Backend;
  rules?: RecipientRules;
  /** Unique per process: the lease owner name. */
  instanceId: string;
  /** How long a pass may hold a request before peers take over. */
  leaseTtlMs: number;
  /** A pass stops after this long; shorter than the lease and than the shutdown grace. */
  passBudgetMs: number;
  autoApproval: AutoApproval;
  /** The reviewer-facing link of a request, when the cluster has one. */
  requestLink(requestId: string): string | undefined;
  clock: Clock;
  telemetry: CoreTelemetry;
}

/** How a pass ended. `finished`: the request owes nothing, now or later. */
export type Outcome =
  /** `usedBackend`: the pass reached the backend's API and it answered. */
  | { status: "done"; finished: boolean; usedBackend?: boolean }
  | { status: "leased"; retryInMs: number }
  | { status: "failed"; error: unknown }
  | { status: "permanent"; reason: string };

interface Routing {
  recipients: string[];
  keys: string[];
  approval: string[];
}

/** One pass over a request, under its lease. */
interface Pass {
  id: string;
  view: RequestView;
  plan: WorkPlan;
  routing: Routing;
  /** Progress so far, recorded in plugin data when the pass ends. */
  progress: PluginState;
  signal: AbortSignal;
  /** Check existing notes before posting: an earlier attempt's outcome is unknown. */
  verifyNotes: boolean;
  /** A note call is under way: if the pass fails now, its outcome is unknown. */
  noteInFlight: boolean;
  /** Permanent problems met on the way (the pass went on with the rest). */
  permanent: string[];
  /** The backend answered at least one call. */
  usedBackend: boolean;
}

/** The final write of a pass gets its own short budget, so even a cancelled pass records its progress. */
const RELEASE_TIMEOUT_MS = 3_000;

export class Reconciler {
  readonly #o: ReconcilerOptions;
  /** Requests this instance approved: never approve twice, whatever Teleport says. */
  readonly #approvedHere = new Set<string>();

  constructor(opts: ReconcilerOptions) {
    this.#o = opts;
  }

  /** One pass over the request: reads its state, takes the lease, does what is owed, records it. */
  async reconcile(view: RequestView, signal: AbortSignal): Promise<Outcome> {
    const id = viewId(view);
    const now = () => this.#o.clock.now();
    const me = this.#o.instanceId;
    const seen = await this.#o.store.read(id, signal);
    const routing = await this.#routing(view, seen.state);
    const owed = this.#plan(view, seen.state, routing);
    if (isIdle(owed)) return { status: "done", finished: finishedNow(view, seen.state) };
    const wait = seen.state ? leaseWait(seen.state.lease, me, now()) : 0;
    if (wait > 0) return { status: "leased", retryInMs: wait };
    if (onlyFinish(owed)) return await this.#markFinished(id, seen, signal);

    const lease = formatLease({ owner: me, until: now() + this.#o.leaseTtlMs });
    let takeover = false;
    // A shutdown must not cut the lease write short: a write the server applied but the
    // client gave up on would leave a lease nobody releases. It gets the release's budget,
    // and the pass that follows stops at once and lets go.
    signal.throwIfAborted();
    const taken = await this.#o.store.modify(
      id,
      (current) => {
        if (current && leaseWait(current.lease, me, now()) > 0) return null;
        if (!current && view.kind === "gone") return null;
        takeover = current !== null && current.lease !== "";
        const base = current ?? initialState(view);
        const recipients = base.recipients.length > 0 ? base.recipients : routing.recipients;
        return { ...base, recipients, lease };
      },
      seen,
      AbortSignal.timeout(RELEASE_TIMEOUT_MS),
    );
    const held = taken.state;
    if (!held || held.lease !== lease) {
      const retryInMs = held ? leaseWait(held.lease, me, now()) : 0;
      return retryInMs > 0 ? { status: "leased", retryInMs } : { status: "done", finished: !isPending(view) };
    }
    if (takeover && parseLease(seen.state?.lease ?? "")?.owner !== me) {
      this.#o.telemetry.count("lease_takeover");
    }
    return await this.#workUnderLease(id, view, routing, { ...taken, state: held }, lease, takeover, signal);
  }

  /** Forget per-request memory once a request is finished. */
  forget(requestId: string): void {
    this.#approvedHere.delete(requestId);
  }

  #plan(view: RequestView, state: PluginState | null, routing: Routing): WorkPlan {
    return planWork({ view, state, notificationKeys: routing.keys, approvalRecipients: routing.approval });
  }

  async #markFinished(id: string, seen: Snapshot, signal: AbortSignal): Promise<Outcome> {
    const me = this.#o.instanceId;
    await this.#o.store.modify(
      id,
      (current) => {
        if (
          !current || isFinished(current) || leaseWait(current.lease, me, this.#o.clock.now()) > 0
        ) return null;
        return { ...current, finished: true, lease: "" };
      },
      seen,
      signal,
    );
    return { status: "done", finished: true };
  }

  async #workUnderLease(
    id: string,
    view: RequestView,
    routing: Routing,
    taken: Snapshot & { state: PluginState },
    lease: string,
    takeover: boolean,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const held = taken.state;
    const plan = this.#plan(view, held, routing);
    const progress = copyState(held);
    // Stop well inside the lease so no peer can take over while we still act.
    const budget = new AbortController();
    this.#o.clock.sleep(this.#o.passBudgetMs, budget.signal).then(
      () => budget.abort(new DOMException("the pass ran out of time", "TimeoutError")),
      () => {},
    );
    const pass: Pass = {
      id,
      view,
      plan,
      routing,
      progress,
      signal: AbortSignal.any([signal, budget.signal]),
      verifyNotes: takeover || held.verifyNotes,
      noteInFlight: false,
      permanent: [],
      usedBackend: false,
    };
    let error: unknown;
    try {
      await this.#execute(pass);
    } catch (caught) {
      error = caught;
    } finally {
      budget.abort();
    }
    progress.verifyNotes = error === undefined ? false : held.verifyNotes || pass.noteInFlight;
    if (error === undefined) progress.failure = pass.permanent.join("; ");
    // Record whatever was done, and let go, even after a failure or a cancel. Only what
    // this pass changed is written, so a concurrent writer's other fields survive.
    const codec = this.#o.backend.codec;
    await this.#o.store.modify(
      id,
      (current) => {
        if (!current || current.lease !== lease) return null;
        return { ...withChanges(codec, current, held, progress), lease: "" };
      },
      taken,
      AbortSignal.timeout(RELEASE_TIMEOUT_MS),
    );
    if (error !== undefined) return { status: "failed", error };
    if (pass.permanent.length > 0) return { status: "permanent", reason: progress.failure };
    return { status: "done", finished: isFinished(progress), usedBackend: pass.usedBackend };
  }

  async #execute(pass: Pass): Promise<void> {
    const { id, view, plan, progress, signal } = pass;
    const backend = this.#o.backend;
    const request = view.kind === "live" ? view.request : requestFromState(id, progress);
    for (const key of plan.notify) {
      let notification: Notification;
      try {
        const link = this.#o.requestLink(id);
        notification = await this.#call(
          pass,
          () => backend.notify(key, pass.routing.recipients, request, link, signal),
        );
      } catch (error) {
        if (failureOf(error) !== "permanent") throw error;
        pass.permanent.push(`${backend.notificationNoun}${key ? ` for ${key}` : ""}: ${describe(error)}`);
        continue;
      }
      progress.notifications.push(notification);
      this.#o.telemetry.count("notification_created");
      log.info(`Successfully created ${backend.notificationNoun}`, {
        request_id: id,
        ...backend.logFields(notification),
      });
    }
    if (plan.approve && view.kind === "live") {
      await this.#tryApprove(pass, view.request);
      progress.approvalChecked = true;
    }
    const notifications = progress.notifications;
    if (notifications.length > 0) {
      for (const review of plan.notes) {
        await this.#annotateAll(pass, { kind: "review", review });
        progress.reviewsCount += 1;
      }
    }
    if (plan.resolve) await this.#resolve(pass, plan.resolve);
  }

  /** Posts one note on every notification; its outcome is unknown until all have answered. */
  async #annotateAll(pass: Pass, note: Parameters<Backend["annotate"]>[1]): Promise<void> {
    const options: NoteOptions = { signal: pass.signal, unlessPosted: pass.verifyNotes };
    pass.noteInFlight = true;
    for (const notification of pass.progress.notifications) {
      await this.#call(pass, () => this.#o.backend.annotate(notification, note, options));
      this.#o.telemetry.count("note", { kind: note.kind });
    }
    pass.noteInFlight = false;
  }

  async #resolve(pass: Pass, resolution: Resolution): Promise<void> {
    const { progress } = pass;
    if (!progress.resolutionNoted) {
      await this.#annotateAll(pass, { kind: "resolution", resolution });
      progress.resolutionNoted = true;
    }
    for (const notification of progress.notifications) {
      await this.#call(pass, () => this.#o.backend.resolve(notification, resolution, pass.signal));
    }
    progress.resolution = resolution.tag;
    progress.resolveReason = resolution.reason;
    progress.resolutionNoted = false;
    progress.finished = true;
    this.#o.telemetry.count("resolution", { resolution: resolution.tag });
    log.info(`Successfully resolved the ${this.#o.backend.notificationNoun}`, {
      request_id: pass.id,
      resolution: resolution.tag,
    });
  }

  /** Ends without error when the decision is "no": only I/O failures are retried. */
  async #tryApprove(pass: Pass, request: AccessRequest): Promise<void> {
    const fields = { request_id: request.id, user: request.user };
    if (this.#approvedHere.has(request.id)) return;
    const found = await this.#call(
      pass,
      () => this.#o.backend.findOnCall(request, pass.routing.approval, pass.signal),
    );
    if (!found.onCall) {
      log.debug(`Skipping the approval: ${found.why}`, fields);
      this.#o.telemetry.count("auto_approval", { result: "not_on_call" });
      return;
    }
    if (this.#o.autoApproval === "dry-run") {
      log.info("Auto-approval dry run: would have approved the request: {reason}", {
        ...fields,
        reason: found.reason,
      });
      if (pass.progress.notifications.length > 0) {
        await this.#annotateAll(pass, { kind: "would-approve", reason: found.reason });
      }
      this.#o.telemetry.count("auto_approval", { result: "dry_run" });
      return;
    }
    try {
      const result = await this.#o.reviews.submitReview(
        request.id,
        { proposedState: "APPROVED", reason: found.reason },
        pass.signal,
      );
      if (result === "already-reviewed") log.debug("Already reviewed the request", fields);
      else log.info("Successfully submitted a request approval", fields);
      this.#o.telemetry.count("auto_approval", {
        result: result === "submitted" ? "approved" : "already_reviewed",
      });
    } catch (error) {
      if (failureOf(error) !== "permanent") throw error;
      // Typically the plugin's role lacks review_requests: no retry fixes that.
      this.#o.telemetry.count("auto_approval", { result: "refused" });
      pass.permanent.push(
        `Teleport refused the plugin's approval (does the plugin's role allow review_requests for these roles?): ${
          describe(error)
        }`,
      );
      return;
    }
    this.#approvedHere.add(request.id);
  }

  /** One backend call: its failures are marked as the backend's, its answers noted on the pass. */
  async #call<T>(pass: Pass, call: () => Promise<T>): Promise<T> {
    try {
      const answer = await call();
      pass.usedBackend = true;
      return answer;
    } catch (error) {
      if (!pass.signal.aborted) markBackend(error);
      throw error;
    }
  }

  async #routing(view: RequestView, state: PluginState | null): Promise<Routing> {
    const backend = this.#o.backend;
    if (view.kind === "gone") {
      const recipients = state?.recipients ?? [];
      const recorded = state?.notifications.map((n) => n.key) ?? [];
      const keys = recipients.length > 0 ? backend.notificationKeys(recipients) : [];
      return { recipients, keys: [...new Set([...keys, ...recorded])], approval: [] };
    }
    const { request } = view;
    const fromRequest = backend.recipientsOf(request);
    let recipients = state && state.recipients.length > 0 ? state.recipients : undefined;
    if (!recipients && request.state === "PENDING" && this.#o.rules) {
      recipients = await this.#o.rules.recipientsFor(request);
    }
    recipients ??= fromRequest.notify;
    if (request.state === "PENDING" && !state) {
      for (const why of fromRequest.skipped) log.debug(why, { request_id: request.id });
    }
    return {
      recipients,
      keys: recipients.length > 0 ? backend.notificationKeys(recipients) : [],
      approval: this.#o.autoApproval === "off" ? [] : fromRequest.approval,
    };
  }
}

/** Whether a request that owes nothing now will never owe anything again. */
function finishedNow(view: RequestView, state: PluginState | null): boolean {
  if (isPending(view)) return false;
  return state === null || isFinished(state);
}

function onlyFinish(plan: WorkPlan): boolean {
  return plan.finish && plan.notify.length === 0 && !plan.approve && plan.notes.length === 0 && !plan.resolve;
}

function initialState(view: RequestView): PluginState {
  const base = emptyState();
  if (view.kind === "gone") return base;
  const { request } = view;
  return {
    ...base,
    user: request.user,
    roles: [...request.roles],
    created: request.created ? Math.floor(request.created.getTime() / 1000) : undefined,
    requestReason: request.requestReason,
  };
}

function copyState(state: PluginState): PluginState {
  return {
    ...state,
    notifications: state.notifications.map((n) => ({ key: n.key, ids: { ...n.ids } })),
    recipients: [...state.recipients],
    roles: [...state.roles],
  };
}

/** What plugin data remembers of a request Teleport has deleted: enough for its notifications. */
function requestFromState(id: string, state: PluginState): AccessRequest {
  return {
    id,
    user: state.user,
    roles: state.roles,
    state: "PENDING",
    created: state.created === undefined ? undefined : new Date(state.created * 1000),
    requestReason: state.requestReason,
    resolveReason: "",
    systemAnnotations: {},
    reviews: [],
    suggestedReviewers: [],
  };
}

/** `current` with the fields that differ between `before` and `after` taken from `after`. */
function withChanges(
  codec: Backend["codec"],
  current: PluginState,
  before: PluginState,
  after: PluginState,
): PluginState {
  const [was, now] = [codec.encode(before), codec.encode(after)];
  const merged = codec.encode(current);
  for (const key of Object.keys(now)) if (now[key] !== was[key]) merged[key] = now[key];
  return codec.decode(merged);
}
