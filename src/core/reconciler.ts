/**
 * Brings one access request's incident(s) up to date: creates what is missing,
 * runs the auto-approval check, posts review notes, resolves. Progress is
 * recorded in plugin data under a lease, so each side effect happens once across
 * a fleet and a failed or interrupted pass is finished by a later one.
 */
import type { AccessRequest } from "./types.ts";
import { AccessDeniedError } from "../teleport/errors.ts";
import { approvalTargets, notifyTargets } from "./annotations.ts";
import { approvalReason, isAlreadyReviewed, isBareEmail } from "./approval.ts";
import type { IncidentBackend, IncidentRef, NoteOptions, Resolution } from "./backend.ts";
import { formatLease, leaseWait } from "./lease.ts";
import { isIdle, planWork, type RequestView, viewId, type WorkPlan } from "./plan.ts";
import { decodePluginState, EMPTY_STATE, encodePluginState, type PluginState } from "./plugin_data.ts";
import type { AccessRequestSource } from "./ports.ts";
import type { PluginStateStore, Snapshot } from "./state_store.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("core");

export interface ReconcilerOptions {
  store: PluginStateStore;
  teleport: Pick<AccessRequestSource, "submitReview">;
  backend: IncidentBackend;
  /** Unique per process: the lease owner name. */
  instanceId: string;
  /** How long a pass may hold a request before peers take over. */
  leaseTtlMs: number;
  /** The reviewer-facing link of a request, when the cluster has one. */
  requestLink(requestId: string): string | undefined;
  now?: () => number;
}

/** Done, or come back later: after a peer's lease ends, or after a failure. */
export type Outcome =
  | { status: "done" }
  | { status: "leased"; retryInMs: number }
  | { status: "failed"; error: unknown };

interface Routing {
  notify: string[];
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
  /** Taking over from an instance whose lease ran out: it may have posted notes it did not record. */
  takeover: boolean;
}

/** A pass may use this much of its lease; the rest is margin for the final write. */
const PASS_SHARE_OF_LEASE = 0.75;

export class Reconciler {
  readonly #opts: ReconcilerOptions;
  readonly #now: () => number;
  /** Requests this instance approved: never approve twice, whatever Teleport says. */
  readonly #approvedHere = new Set<string>();

  constructor(opts: ReconcilerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  async reconcile(view: RequestView): Promise<Outcome> {
    const id = viewId(view);
    const routing = routingOf(view, this.#opts.backend);
    const seen = await this.#opts.store.read(id);
    const owed = planWork({
      view,
      state: seen.state,
      notifyTargets: routing.notify,
      approvalTargets: routing.approval,
    });
    if (isIdle(owed)) return { status: "done" };
    const wait = seen.state ? leaseWait(seen.state.lease, this.#opts.instanceId, this.#now()) : 0;
    if (wait > 0) return { status: "leased", retryInMs: wait };

    const lease = formatLease({ owner: this.#opts.instanceId, until: this.#now() + this.#opts.leaseTtlMs });
    let takeover = false;
    const taken = await this.#opts.store.modify(id, (current) => {
      if (current && leaseWait(current.lease, this.#opts.instanceId, this.#now()) > 0) return null;
      if (!current && view.kind === "gone") return null;
      takeover = current !== null && current.lease !== "";
      const base = current ?? initialState(view, routing.notify[0] ?? "");
      return { ...base, lease };
    }, seen);
    const held = taken.state;
    if (!held || held.lease !== lease) {
      const retryInMs = held ? leaseWait(held.lease, this.#opts.instanceId, this.#now()) : 0;
      return retryInMs > 0 ? { status: "leased", retryInMs } : { status: "done" };
    }
    return await this.#workUnderLease(id, view, routing, { ...taken, state: held }, { lease, takeover });
  }

  async #workUnderLease(
    id: string,
    view: RequestView,
    routing: Routing,
    taken: Snapshot & { state: PluginState },
    { lease, takeover }: { lease: string; takeover: boolean },
  ): Promise<Outcome> {
    const held = taken.state;
    const plan = planWork({
      view,
      state: held,
      notifyTargets: routing.notify,
      approvalTargets: routing.approval,
    });
    const progress: PluginState = { ...held, extraIncidents: [...held.extraIncidents] };
    // Stop well inside the lease so no peer can take over while we still act.
    const deadline = AbortSignal.timeout(this.#opts.leaseTtlMs * PASS_SHARE_OF_LEASE);
    let outcome: Outcome = { status: "done" };
    try {
      await this.#execute({ id, view, plan, routing, progress, signal: deadline, takeover });
    } catch (error) {
      outcome = { status: "failed", error };
    }
    // Record whatever was done, and let go, even after a failure. Only what this pass
    // changed is written, so a concurrent writer's other fields survive (a Go peer's, say).
    await this.#opts.store.modify(id, (current) => {
      if (!current || current.lease !== lease) return null;
      return { ...withChanges(current, held, progress), lease: "" };
    }, taken);
    return outcome;
  }

  async #execute({ id, view, plan, routing, progress, signal, takeover }: Pass) {
    const noteOptions = { signal, unlessPosted: takeover };
    const backend = this.#opts.backend;
    const request = view.kind === "live" ? view.request : requestFromState(id, progress);
    for (const target of plan.createIncidents) {
      const ref = await backend.createIncident(target, request, this.#opts.requestLink(id), signal);
      recordIncident(progress, ref);
      log.info("Successfully created PagerDuty incident", {
        request_id: id,
        pd_incident_id: ref.incidentId,
        pd_service_name: target,
      });
    }
    if (plan.approve && view.kind === "live") {
      await this.#tryApprove(view.request, routing.approval, signal);
      progress.approvalChecked = true;
    }
    const incidents = incidentsOf(progress);
    for (const review of plan.notes) {
      for (const incident of incidents) await backend.postReviewNote(incident, review, noteOptions);
      progress.reviewsCount += 1;
    }
    if (plan.resolve) await this.#resolve(id, plan.resolve, incidents, progress, noteOptions);
  }

  async #resolve(
    id: string,
    resolution: Resolution,
    incidents: IncidentRef[],
    progress: PluginState,
    noteOptions: NoteOptions,
  ) {
    const backend = this.#opts.backend;
    if (!progress.resolutionNoted) {
      for (const incident of incidents) await backend.postResolutionNote(incident, resolution, noteOptions);
      progress.resolutionNoted = true;
    }
    for (const incident of incidents) await backend.closeIncident(incident, noteOptions.signal);
    progress.resolution = resolution.tag;
    progress.resolveReason = resolution.reason;
    progress.resolutionNoted = false;
    log.info("Successfully resolved the incident", { request_id: id, resolution: resolution.tag });
  }

  /** Resolves without error when the decision is "no": only I/O failures are retried. */
  async #tryApprove(request: AccessRequest, targets: string[], signal: AbortSignal): Promise<void> {
    const fields = { request_id: request.id, pd_user_email: request.user };
    if (this.#approvedHere.has(request.id)) return;
    if (!isBareEmail(request.user)) {
      log.warn(`Skipping the approval: "${request.user}" does not look like a valid email`, fields);
      return;
    }
    const found = await this.#opts.backend.findOnCall(request.user, targets, signal);
    if (!found.onCall) {
      log.debug(`Skipping the approval: ${found.why}`, fields);
      return;
    }
    const reason = approvalReason(found.userName, found.userEmail, found.services);
    try {
      await this.#opts.teleport.submitReview(request.id, { proposedState: "APPROVED", reason });
      log.info("Successfully submitted a request approval", fields);
    } catch (error) {
      if (!(error instanceof AccessDeniedError && isAlreadyReviewed(error.message))) throw error;
      log.debug("Already reviewed the request", fields);
    }
    this.#approvedHere.add(request.id);
  }

  /** Forget per-request memory once a request is finished. */
  forget(requestId: string): void {
    this.#approvedHere.delete(requestId);
  }
}

function routingOf(view: RequestView, backend: IncidentBackend): Routing {
  if (view.kind === "gone") return { notify: [], approval: [] };
  const notify = notifyTargets(view.request, backend.notifyAnnotation);
  const approval = approvalTargets(view.request, backend.approvalAnnotation);
  if (view.request.state === "PENDING") {
    const fields = { request_id: view.request.id };
    if (!notify.ok) log.debug(`Skipping the notification: ${notify.why}`, fields);
    if (!approval.ok) log.debug(`Skipping the approval: ${approval.why}`, fields);
  }
  return { notify: notify.ok ? notify.values : [], approval: approval.ok ? approval.values : [] };
}

function initialState(view: RequestView, target: string): PluginState {
  const base: PluginState = { ...EMPTY_STATE, roles: [], extraIncidents: [], target };
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

/** What plugin data remembers of a request Teleport has deleted: enough for its incident. */
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
function withChanges(current: PluginState, before: PluginState, after: PluginState): PluginState {
  const [was, now] = [encodePluginState(before), encodePluginState(after)];
  const merged = encodePluginState(current);
  for (const key of Object.keys(now)) if (now[key] !== was[key]) merged[key] = now[key];
  return decodePluginState(merged);
}

function recordIncident(state: PluginState, ref: IncidentRef): void {
  if (state.incidentId === "" && (state.target === "" || state.target === ref.target)) {
    state.incidentId = ref.incidentId;
    state.serviceId = ref.serviceId;
    state.target = ref.target;
    return;
  }
  state.extraIncidents.push({ target: ref.target, serviceId: ref.serviceId, incidentId: ref.incidentId });
}

function incidentsOf(state: PluginState): IncidentRef[] {
  const first = state.incidentId === ""
    ? []
    : [{ target: state.target, serviceId: state.serviceId, incidentId: state.incidentId }];
  return [...first, ...state.extraIncidents];
}
