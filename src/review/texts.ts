/** Incident notes and review reasons written by the review feature. */
import type { ReviewAction } from "./payload.ts";

const PAST: Record<ReviewAction, string> = { approve: "approved", deny: "denied" };

/** The note for a review Teleport accepted: "Access request approved by alice via PagerDuty". */
export function reviewedNote(action: ReviewAction, teleportUser: string, requestState: string): string {
  const line = `Access request ${PAST[action]} by ${teleportUser} via PagerDuty`;
  return requestState === "PENDING" ? `${line}\nThe request still needs more reviews.` : line;
}

/** The note for a click that did not become a review, with the reason. */
export function refusedNote(action: ReviewAction, who: string, reason: string): string {
  return `The ${action} action by ${who} via PagerDuty was not applied: ${reason}`;
}

/** The reason recorded with the review in Teleport. */
export function reviewReason(action: ReviewAction, incidentId: string): string {
  return `${action === "approve" ? "Approved" : "Denied"} via PagerDuty (incident ${incidentId})`;
}
