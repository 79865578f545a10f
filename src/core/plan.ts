/**
 * What is still owed for one access request, as a pure function of what Teleport
 * says about the request and what the plugin data says was already done.
 */
import type { AccessRequest, AccessReview } from "./types.ts";
import type { Resolution, ResolutionTag } from "./backend.ts";
import type { PluginState } from "./plugin_data.ts";

/** The request as last seen: alive (any state), or deleted (which Teleport does on expiry). */
export type RequestView =
  | { kind: "live"; request: AccessRequest }
  | { kind: "gone"; id: string };

export interface PlanInput {
  view: RequestView;
  /** null when the request has no plugin data entry yet. */
  state: PluginState | null;
  /** Notify targets from the request annotation (ignored for a gone request). */
  notifyTargets: string[];
  /** Approval targets from the request annotation. */
  approvalTargets: string[];
}

export interface WorkPlan {
  /** Targets that still need an incident. */
  createIncidents: string[];
  /** Run the on-call auto-approval check. */
  approve: boolean;
  /** Reviews not yet posted as notes, in Teleport's order. */
  notes: AccessReview[];
  /** Resolve the incident(s) with this outcome. */
  resolve?: Resolution;
}

export const NOTHING: WorkPlan = { createIncidents: [], approve: false, notes: [], resolve: undefined };

export function isIdle(plan: WorkPlan): boolean {
  return plan.createIncidents.length === 0 && !plan.approve && plan.notes.length === 0 && !plan.resolve;
}

export function viewId(view: RequestView): string {
  return view.kind === "live" ? view.request.id : view.id;
}

export function planWork(input: PlanInput): WorkPlan {
  const { view, state } = input;
  if (view.kind === "live" && view.request.state === "PENDING") {
    return planPending(view.request, state, input);
  }
  // Resolved or gone: only requests we already took on (plugin data exists) owe anything.
  if (!state || state.resolution !== "") return NOTHING;
  const resolve = resolutionOf(view);
  if (!resolve) return NOTHING;
  const targets = view.kind === "live" ? input.notifyTargets : stateTargets(state);
  if (targets.length === 0 && state.incidentId === "") return NOTHING;
  const reviews = view.kind === "live" ? view.request.reviews : [];
  return {
    createIncidents: missingTargets(targets, state),
    approve: false,
    notes: reviews.slice(state.reviewsCount),
    resolve,
  };
}

function planPending(request: AccessRequest, state: PluginState | null, input: PlanInput): WorkPlan {
  const targets = input.notifyTargets;
  return {
    createIncidents: missingTargets(targets, state),
    approve: input.approvalTargets.length > 0 && !state?.approvalChecked,
    notes: targets.length > 0 ? request.reviews.slice(state?.reviewsCount ?? 0) : [],
    resolve: undefined,
  };
}

/** A NONE state request is not resolved: nothing to do (the Go plugin warns and skips too). */
function resolutionOf(view: RequestView): Resolution | undefined {
  if (view.kind === "gone") return { tag: "expired", reason: "" };
  const tag = RESOLVED_TAGS[view.request.state];
  return tag ? { tag, reason: view.request.resolveReason } : undefined;
}

const RESOLVED_TAGS: Partial<Record<AccessRequest["state"], ResolutionTag>> = {
  APPROVED: "approved",
  DENIED: "denied",
  PROMOTED: "promoted",
};

/** Targets recorded in plugin data: how a deleted request's incidents are found. */
export function stateTargets(state: PluginState): string[] {
  const first = state.target !== "" || state.incidentId !== "" ? [state.target] : [];
  return [...first, ...state.extraIncidents.map((e) => e.target)];
}

function missingTargets(targets: string[], state: PluginState | null): string[] {
  if (!state) return [...targets];
  return targets.filter((target, index) => {
    if (index === 0) return state.incidentId === "";
    return !state.extraIncidents.some((e) => e.target === target);
  });
}
