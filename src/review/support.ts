/**
 * Startup check: reviews from PagerDuty are only enabled on a Teleport that applies the
 * author's permissions to a review a plugin submits on their behalf (RFD 0250:
 * AccessReview.SubmittedBy = 11, role rule review_requests.submit_for_users, Teleport 18).
 * Never falls back to reviewing as the plugin.
 *
 * Detection: the server version from Ping, then a probe: an on-behalf review of a request
 * that does not exist, by a user that does not exist. A server that knows SubmittedBy and
 * lets this plugin submit for others answers NOT_FOUND; an older server drops the unknown
 * field and refuses the author mismatch (PERMISSION_DENIED), as does a server where the
 * plugin's role lacks submit_for_users. The probe changes nothing.
 */
import { NotFoundError, TeleportError } from "../teleport/errors.ts";
import type { ReviewTeleport } from "./ports.ts";
import { MIN_ON_BEHALF_MAJOR } from "./endpoints.ts";

/** Throws one line when the cluster cannot take reviews on behalf of users from this plugin. */
export async function checkOnBehalfReviews(
  teleport: Pick<ReviewTeleport, "submitReviewFor">,
  serverVersion: string,
): Promise<void> {
  const major = Number(/^v?(\d+)\./.exec(serverVersion)?.[1] ?? NaN);
  if (!(major >= MIN_ON_BEHALF_MAJOR)) {
    throw new Error(
      `[review] needs Teleport ${MIN_ON_BEHALF_MAJOR} or newer (reviews on behalf of users); this cluster runs ${serverVersion}: upgrade Teleport or set review.enabled = false`,
    );
  }
  const probe = crypto.randomUUID();
  try {
    await teleport.submitReviewFor(probe, {
      author: `teleport-pagerduty-probe-${probe}`,
      proposedState: "APPROVED",
      reason: "teleport-pagerduty: checking support for reviews on behalf of users",
    });
  } catch (error) {
    if (error instanceof NotFoundError) return;
    if (error instanceof TeleportError) {
      throw new Error(
        `[review] cannot be enabled: Teleport refused a review on behalf of a user (${error.message}); grant the plugin's role review_requests.submit_for_users or set review.enabled = false`,
      );
    }
    throw error;
  }
  throw new Error("[review] cannot be enabled: Teleport accepted a review of a request that does not exist");
}
