/**
 * What the review feature needs from Teleport and PagerDuty. TeleportClient, the
 * PagerDuty incident client and PagerDutyReviewApi satisfy these structurally.
 */
import type { AccessRequestSource } from "../core/ports.ts";
import type { AccessRequest } from "../core/types.ts";
import type { TeleportUser } from "../teleport/users.ts";
import type { IncidentSnapshot, LogEntry, PagerDutyUserInfo } from "../backends/pagerduty/review_api.ts";

export interface ReviewTeleport
  extends Pick<AccessRequestSource, "getPluginData" | "updatePluginData" | "getRequest"> {
  /** The plugin's own Teleport user (the reviews' SubmittedBy). */
  readonly user: string;
  getUser(name: string): Promise<TeleportUser | null>;
  listUsers(): Promise<TeleportUser[]>;
  submitReviewFor(
    requestId: string,
    review: { author: string; proposedState: "APPROVED" | "DENIED"; reason: string },
  ): Promise<AccessRequest>;
}

export interface ReviewPagerDuty {
  getIncident(id: string): Promise<IncidentSnapshot | null>;
  listLogEntries(incidentId: string): Promise<LogEntry[]>;
  getUser(id: string): Promise<PagerDutyUserInfo | null>;
  addNote(incidentId: string, content: string): Promise<void>;
}
