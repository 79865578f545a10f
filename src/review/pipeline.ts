/**
 * What happens to an authenticated, de-duplicated delivery after PagerDuty got its
 * answer. Nothing from the payload is believed except ids, each checked in turn:
 *
 * 1. the incident is re-fetched with the plugin's API key (another account's is a 404);
 * 2. its incident_key is this plugin's key for a request, and plugin data of that request
 *    records this incident (first or extra incident);
 * 3. one instance claims the event in plugin data (compare-and-swap), so a delivery
 *    received by several instances is handled once: one review, one note;
 * 4. the request is still pending (the clicker's PagerDuty name is read first, for the notes);
 * 5. the clicker (event agent) appears in the incident's log entries around the click;
 * 6. the clicker maps to exactly one Teleport user;
 * 7. the review is submitted with the mapped user as author and the plugin as
 *    SubmittedBy; Teleport applies that user's review rules.
 *
 * From step 4 on the incident is known to be ours, and every outcome becomes a note on
 * it. Failures are reported once, never retried in a loop.
 */
import { createHash } from "node:crypto";
import { INCIDENT_KEY_PREFIX, incidentKey } from "../backends/pagerduty/client.ts";
import type { IncidentSnapshot } from "../backends/pagerduty/review_api.ts";
import { AccessDeniedError, CompareFailedError } from "../teleport/errors.ts";
import { getLog } from "../ops/logging.ts";
import { type IdentityOptions, mapPagerDutyUser } from "./identity.ts";
import type { Delivery } from "./payload.ts";
import type { ReviewPagerDuty, ReviewTeleport } from "./ports.ts";
import { refusedNote, reviewedNote, reviewReason } from "./texts.ts";

const log = getLog("review");

/** How far apart the event time and the clicker's log entry may be. */
export const LOG_ENTRY_TOLERANCE_MS = 10 * 60_000;
const CLAIM_KEY_PREFIX = "pd_review_";

export type OutcomeResult = "reviewed" | "refused" | "ignored" | "duplicate" | "failed";

/** How one delivery ended; reported to the log and the `onOutcome` hook. */
export interface Outcome {
  eventId: string;
  result: OutcomeResult;
  detail: string;
  requestId?: string;
  teleportUser?: string;
}

export interface PipelineDeps {
  teleport: ReviewTeleport;
  pagerduty: ReviewPagerDuty;
  /** Plugin data entry name ("pagerduty"). */
  pluginName: string;
  /** This process, recorded in the claim. */
  instanceId: string;
  identity: IdentityOptions;
}

/** A refusal once the incident is known to be ours: reported as a note. */
class Refusal extends Error {}

/** Runs the checks and the review for one delivery; never throws. */
export async function processDelivery(delivery: Delivery, deps: PipelineDeps): Promise<Outcome> {
  const base = { eventId: delivery.eventId };
  let ours: { incident: IncidentSnapshot; requestId: string } | undefined;
  let who = `PagerDuty user ${delivery.agentId}`;
  try {
    const found = await verifyIncident(delivery, deps);
    if ("ignored" in found) return { ...base, result: "ignored", detail: found.ignored };
    if (!await claim(delivery, found.requestId, deps)) {
      return {
        ...base,
        result: "duplicate",
        detail: "another instance handles this event",
        requestId: found.requestId,
      };
    }
    ours = found;
    const pdUser = await deps.pagerduty.getUser(delivery.agentId);
    if (!pdUser) throw new Refusal(`PagerDuty user ${delivery.agentId} does not exist`);
    who = pdUser.name ? `${pdUser.name} (${pdUser.id})` : who;
    const request = await deps.teleport.getRequest(ours.requestId);
    if (!request) throw new Refusal("the access request no longer exists");
    if (request.state !== "PENDING") {
      throw new Refusal(`the access request is already ${request.state.toLowerCase()}`);
    }
    await confirmClicker(delivery, ours.incident, deps);
    const mapped = await mapPagerDutyUser(pdUser, deps.teleport, deps.identity);
    if ("problem" in mapped) throw new Refusal(mapped.problem);
    const updated = await submit(delivery, ours, mapped.user, deps);
    await deps.pagerduty.addNote(ours.incident.id, reviewedNote(delivery.action, mapped.user, updated.state));
    log.info("Review submitted from PagerDuty", {
      request_id: ours.requestId,
      pd_incident_id: ours.incident.id,
      pd_event_id: delivery.eventId,
      teleport_user: mapped.user,
      action: delivery.action,
    });
    return {
      ...base,
      result: "reviewed",
      detail: `${delivery.action} by ${mapped.user}`,
      requestId: ours.requestId,
      teleportUser: mapped.user,
    };
  } catch (error) {
    const refused = error instanceof Refusal;
    const reason = refused ? error.message : `an error occurred: ${(error as Error).message ?? error}`;
    log.warn("PagerDuty {action} not applied: {reason}", {
      action: delivery.action,
      reason,
      pd_event_id: delivery.eventId,
      pd_incident_id: delivery.incidentId,
      request_id: ours?.requestId,
    });
    if (ours) await noteQuietly(deps, ours.incident.id, refusedNote(delivery.action, who, reason));
    return { ...base, result: refused ? "refused" : "failed", detail: reason, requestId: ours?.requestId };
  }
}

/** Steps 1–2: the incident as our key sees it, and the request it belongs to. */
async function verifyIncident(
  delivery: Delivery,
  deps: PipelineDeps,
): Promise<{ incident: IncidentSnapshot; requestId: string } | { ignored: string }> {
  const incident = await deps.pagerduty.getIncident(delivery.incidentId);
  if (!incident) {
    return { ignored: `incident ${delivery.incidentId} is not visible with the plugin's API key` };
  }
  const prefix = `${INCIDENT_KEY_PREFIX}/`;
  const requestId = incident.incidentKey.startsWith(prefix) ? incident.incidentKey.slice(prefix.length) : "";
  if (requestId === "" || incidentKey(requestId) !== incident.incidentKey) {
    return { ignored: `incident ${incident.id} is not a Teleport access request incident` };
  }
  const data = await deps.teleport.getPluginData(requestId, deps.pluginName);
  if (!recordedIncidents(data).includes(incident.id)) {
    return { ignored: `plugin data of request ${requestId} does not record incident ${incident.id}` };
  }
  return { incident, requestId };
}

/** incident_id plus the incidents of extra notify targets (`extra_incidents` JSON). */
export function recordedIncidents(data: Record<string, string> | null): string[] {
  if (!data) return [];
  const ids = data.incident_id ? [data.incident_id] : [];
  try {
    const extra: unknown = JSON.parse(data.extra_incidents || "[]");
    if (Array.isArray(extra)) {
      for (const item of extra) if (typeof item?.incidentId === "string") ids.push(item.incidentId);
    }
  } catch {
    // Unreadable extra incidents: only incident_id counts.
  }
  return ids;
}

/** Step 5: the incident's log shows the clicker acting on it around the event's time. */
async function confirmClicker(
  delivery: Delivery,
  incident: IncidentSnapshot,
  deps: PipelineDeps,
): Promise<void> {
  const entries = await deps.pagerduty.listLogEntries(incident.id);
  const seen = entries.some((entry) =>
    entry.agentId === delivery.agentId && entry.agentType === "user_reference" &&
    (delivery.trigger === "workflow" || entry.type === "custom_log_entry") &&
    Math.abs(entry.createdAt - delivery.occurredAt) <= LOG_ENTRY_TOLERANCE_MS
  );
  if (!seen) {
    throw new Refusal(
      `the incident's log shows no action by PagerDuty user ${delivery.agentId} at that time`,
    );
  }
}

/** Step 3: first writer of this event's claim key wins; the others see a failed compare. */
async function claim(delivery: Delivery, requestId: string, deps: PipelineDeps): Promise<boolean> {
  const key = claimKey(delivery.eventId);
  try {
    await deps.teleport.updatePluginData(requestId, deps.pluginName, { [key]: deps.instanceId }, {
      [key]: "",
    });
    return true;
  } catch (error) {
    if (error instanceof CompareFailedError) return false;
    throw error;
  }
}

/** Plugin data key recording which instance took an event (bounded length, any event id). */
export function claimKey(eventId: string): string {
  return CLAIM_KEY_PREFIX + createHash("sha256").update(eventId).digest("hex").slice(0, 24);
}

/** Step 7; Teleport's refusals (review rules, self-review, already reviewed) become refusals. */
async function submit(
  delivery: Delivery,
  ours: { incident: IncidentSnapshot; requestId: string },
  author: string,
  deps: PipelineDeps,
) {
  try {
    return await deps.teleport.submitReviewFor(ours.requestId, {
      author,
      proposedState: delivery.action === "approve" ? "APPROVED" : "DENIED",
      reason: reviewReason(delivery.action, ours.incident.id),
    });
  } catch (error) {
    if (error instanceof AccessDeniedError) {
      throw new Refusal(`Teleport refused the review: ${error.message}`);
    }
    throw error;
  }
}

async function noteQuietly(deps: PipelineDeps, incidentId: string, content: string): Promise<void> {
  try {
    await deps.pagerduty.addNote(incidentId, content);
  } catch (error) {
    log.warn("Could not post the review outcome note: {error}", {
      pd_incident_id: incidentId,
      error: (error as Error).message,
    });
  }
}
