/**
 * What is still owed for one access request, as a pure function of what Teleport
 * says about the request and what the plugin data says was already done.
 */
import type { Resolution, ResolutionTag } from "./backend.ts";
import type { PluginState } from "./state.ts";
import type { AccessRequest, AccessReview } from "./types.ts";

/** The request as last seen: alive (any state), or deleted (which Teleport does on expiry). */
export type RequestView =
  | { kind: "live"; request: AccessRequest }
  | { kind: "gone"; id: string };

export interface PlanInput {
  view: RequestView;
  /** null when the request has no plugin data entry yet. */
  state: PluginState | null;
  /** The notification keys the request's recipients call for (for a gone request: those recorded). */
  notificationKeys: string[];
  /** Approval recipients; empty when auto-approval is off or the request names none. */
  approvalRecipients: string[];
}

export interface WorkPlan {
  /** Notification keys that still need an incident or alert. */
  notify: string[];
  /** Run the on-call auto-approval check. */
  approve: boolean;
  /** Reviews not yet posted as notes, in Teleport's order. */
  notes: AccessReview[];
  /** Resolve the notification(s) with this outcome. */
  resolve?: Resolution;
  /** Nothing is owed any more: record that, so resyncs skip the request. */
  finish: boolean;
}

/** The plan of a request that owes nothing. */
export const NOTHING: WorkPlan = { notify: [], approve: false, notes: [], resolve: undefined, finish: false };

/** Whether the plan has no side effect and nothing to record. */
export function isIdle(plan: WorkPlan): boolean {
  return plan.notify.length === 0 && !plan.approve && plan.notes.length === 0 && !plan.resolve &&
    !plan.finish;
}

/** The request id of a view. */
export function viewId(view: RequestView): string {
  return view.kind === "live" ? view.request.id : view.id;
}

/** Whether Teleport still has the request pending. */
export function isPending(view: RequestView): boolean {
  return view.kind === "live" && view.request.state === "PENDING";
}

/** The work still owed for one request. */
export function planWork(input: PlanInput): WorkPlan {
  const { view, state } = input;
  if (view.kind === "live" && view.request.state === "PENDING") {
    return planPending(view.request, state, input);
  }
  // Resolved or gone: only requests we already took on (plugin data exists) owe anything.
  if (!state || state.finished || state.resolution !== "") return NOTHING;
  const resolve = resolutionOf(view);
  if (!resolve) return NOTHING;
  const keys = input.notificationKeys;
  if (keys.length === 0 && state.notifications.length === 0) return { ...NOTHING, finish: true };
  const reviews = view.kind === "live" ? view.request.reviews : [];
  return {
    notify: missingKeys(keys, state),
    approve: false,
    notes: reviews.slice(state.reviewsCount),
    resolve,
    finish: false,
  };
}

function planPending(request: AccessRequest, state: PluginState | null, input: PlanInput): WorkPlan {
  const keys = input.notificationKeys;
  return {
    notify: missingKeys(keys, state),
    approve: input.approvalRecipients.length > 0 && !state?.approvalChecked,
    notes: keys.length > 0 ? request.reviews.slice(state?.reviewsCount ?? 0) : [],
    resolve: undefined,
    finish: false,
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

/**
 * Keys without a notification. A first notification recorded without a key (written
 * by the Go plugin, which keeps only ids) stands for the first key.
 */
function missingKeys(keys: string[], state: PluginState | null): string[] {
  if (!state) return [...keys];
  const recorded = state.notifications;
  return keys.filter((key, index) =>
    !recorded.some((n) => n.key === key) && !(index === 0 && recorded[0]?.key === "")
  );
}
