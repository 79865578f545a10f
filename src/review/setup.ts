/**
 * `teleport-pagerduty review-setup`: creates or updates the V3 webhook subscription of
 * each configured service (event `incident.workflow.started`, delivered to
 * `<public_url>/pagerduty/webhook`), prints each new subscription's signing secret once
 * (PagerDuty returns it only at creation), then the remaining manual steps.
 */
import type { PagerDutyReviewApi, WebhookSubscription } from "../backends/pagerduty/review_api.ts";
import type { ReviewConfig } from "../config/review.ts";
import { WORKFLOW_STARTED } from "./payload.ts";
import { ACTION_PATHS, ACTION_SECRET_HEADER, MIN_ON_BEHALF_MAJOR, WEBHOOK_PATH } from "./endpoints.ts";

export const SUBSCRIPTION_DESCRIPTION = "Teleport access request reviews (teleport-pagerduty)";

export type SetupApi = Pick<
  PagerDutyReviewApi,
  "listServiceSubscriptions" | "createSubscription" | "updateSubscription"
>;

/** Runs the setup against PagerDuty; `print` receives the operator's text. Throws one line on bad input. */
export async function runReviewSetup(
  review: ReviewConfig | undefined,
  api: SetupApi,
  print: (text: string) => void,
): Promise<void> {
  if (!review?.publicUrl) {
    throw new Error(
      "review-setup needs review.public_url: the https URL at which PagerDuty reaches this plugin",
    );
  }
  if (review.services.length === 0) {
    throw new Error(
      'review-setup needs review.services: the PagerDuty service ids to subscribe to, e.g. ["PABC123"]',
    );
  }
  const url = review.publicUrl + WEBHOOK_PATH;
  const created: Array<{ serviceId: string; subscription: WebhookSubscription }> = [];
  for (const serviceId of review.services) {
    const input = { url, events: [WORKFLOW_STARTED], serviceId, description: SUBSCRIPTION_DESCRIPTION };
    const existing = (await api.listServiceSubscriptions(serviceId)).find((s) =>
      s.url === url || s.description === SUBSCRIPTION_DESCRIPTION
    );
    if (existing) {
      await api.updateSubscription(existing.id, input);
      print(
        `Updated webhook subscription ${existing.id} for service ${serviceId} (its secret is unchanged).\n`,
      );
    } else {
      const subscription = await api.createSubscription(input);
      created.push({ serviceId, subscription });
      print(`Created webhook subscription ${subscription.id} for service ${serviceId}.\n`);
    }
  }
  if (created.length > 0) {
    print(
      "\nSigning secrets (shown only now; PagerDuty will not show them again). Store them, one per line,\n" +
        "in the file named by review.webhook_secret_file (chmod 600), next to any you already have:\n\n",
    );
    for (const { serviceId, subscription } of created) {
      print(`${subscription.secret ?? ""}  # ${serviceId}\n`);
    }
  }
  print(nextSteps(review));
}

function nextSteps(review: ReviewConfig): string {
  const base = review.publicUrl!;
  return `
Next steps
1. Teleport ${MIN_ON_BEHALF_MAJOR} or newer. Give the plugin's role:
     review_requests: { submit_for_users: ["*"] }   and rules for user: [read, list]
2. On every responder's Teleport user, set the trait ${review.userTrait} to their PagerDuty user id
   (e.g. tctl edit user/alice). Only a unique match is accepted${
    review.matchEmail ? "; email = username matching is on" : ""
  }.
3. Incident Workflows (signed, recommended): in PagerDuty create two workflows with a Manual trigger on the
   services above, "Approve Teleport access request" and "Deny Teleport access request", and restrict who may
   start them. Put the trigger (or workflow) ids into review.approve_ids and review.deny_ids.
4. Or Custom Incident Actions (PagerDuty does not sign them): on each service, Integrations > Extensions >
   New Extension > "Custom Incident Action":
     "Approve Teleport request"  URL ${base}${ACTION_PATHS.approve}
                                 header ${ACTION_SECRET_HEADER}: <secret of review.approve_action_secret_file>
     "Deny Teleport request"     URL ${base}${ACTION_PATHS.deny}
                                 header ${ACTION_SECRET_HEADER}: <secret of review.deny_action_secret_file>
   Make each secret with: openssl rand -hex 32
5. Serve ${base} with a publicly trusted certificate (review.tls_cert_file/tls_key_file, or a TLS proxy in
   front of review.listen_addr), set review.enabled = true and restart the plugin.
`;
}
