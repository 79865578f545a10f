/**
 * The texts the plugin writes into Opsgenie, worded as upstream's Opsgenie plugin
 * words them (spec §1.5, templates A–C, which are also PagerDuty's), cut to Opsgenie's
 * documented field limits: a long user name or reason is truncated, never rejected.
 */
import type { Note } from "../../core/backend.ts";
import type { AccessRequest } from "../../core/types.ts";
import {
  incidentDetails,
  incidentTitle,
  resolutionNote,
  reviewNote,
  truncateChars,
} from "../pagerduty/texts.ts";

/** Opsgenie's limits (docs.opsgenie.com/docs/alert-api), in characters. */
export const LIMITS = {
  message: 130,
  alias: 512,
  description: 15_000,
  note: 25_000,
  tags: 20,
  tag: 50,
} as const;

export const ALIAS_PREFIX = "teleport-access-request";

/** The alias of a request's alert: Opsgenie keeps one open alert per alias. */
export function alertAlias(requestId: string): string {
  return truncateChars(`${ALIAS_PREFIX}/${requestId}`, LIMITS.alias);
}

/** "Access request from <user>", at most 130 characters. */
export function alertMessage(user: string): string {
  return truncateChars(incidentTitle(user), LIMITS.message);
}

/** Upstream's template A, at most 15,000 characters. */
export function alertDescription(request: AccessRequest, link: string | undefined): string {
  return truncateChars(incidentDetails(request, link), LIMITS.description);
}

/** At most 20 tags of at most 50 characters, blanks and duplicates dropped. */
export function alertTags(tags: readonly string[]): string[] {
  const cut = tags.map((t) => truncateChars(t.trim(), LIMITS.tag)).filter((t) => t !== "");
  return [...new Set(cut)].slice(0, LIMITS.tags);
}

/** The auto-approval reason, naming the requester (upstream prints a constant instead). */
export function approvalReason(user: string, schedules: readonly string[]): string {
  return `Access requested by user ${user} who is on call on schedule(s) ${schedules.join(", ")}`;
}

/** The text of a note: upstream's templates B and C, or the dry-run notice. */
export function noteText(note: Note): string {
  switch (note.kind) {
    case "review":
      return truncateChars(reviewNote(note.review), LIMITS.note);
    case "resolution":
      return truncateChars(resolutionNote(note.resolution.tag, note.resolution.reason), LIMITS.note);
    case "would-approve":
      return truncateChars(
        `Auto-approval dry run: the plugin would have approved this request.\nReason: ${note.reason}`,
        LIMITS.note,
      );
  }
}
