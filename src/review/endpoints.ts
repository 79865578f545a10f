/**
 * The public face of the review listener: its paths, the custom action header and the
 * Teleport version it needs. Kept free of runtime dependencies so `review-setup` can
 * print them without loading the gRPC stack.
 */
import type { ReviewAction } from "./payload.ts";

export const WEBHOOK_PATH = "/pagerduty/webhook";
export const ACTION_PATHS: Record<ReviewAction, string> = {
  approve: "/pagerduty/action/approve",
  deny: "/pagerduty/action/deny",
};
/** The header each Custom Incident Action is configured to send (lower case, as Headers reads it). */
export const ACTION_SECRET_HEADER = "x-teleport-action-secret";
/** First Teleport major version with reviews on behalf of users (AccessReview.SubmittedBy). */
export const MIN_ON_BEHALF_MAJOR = 18;
