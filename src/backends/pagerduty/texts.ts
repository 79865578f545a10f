/**
 * The texts the plugin writes into PagerDuty, worded as the Go plugin words them
 * so existing runbooks and tests that grep for them keep working.
 * Times are rendered like Go's time.RFC822 in UTC: `02 Jan 06 15:04 UTC`.
 */
import type { ResolutionTag } from "../../core/backend.ts";
import type { AccessReview } from "../../core/types.ts";

/** PagerDuty's documented maxima: incident title in characters, body details in bytes. */
export const MAX_TITLE_CHARS = 1024;
export const MAX_DETAILS_BYTES = 64 * 1024;

const TRUNCATION_MARK = "…";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Go's zero time.Time, which the Go plugin prints when a timestamp is missing. */
const GO_ZERO_TIME = new Date("0001-01-01T00:00:00Z");

export interface IncidentRequestInfo {
  user: string;
  roles: string[];
  created?: Date;
  requestReason: string;
}

export function incidentTitle(user: string): string {
  return `Access request from ${user}`;
}

/** The incident body: three newline-terminated lines; absent reason/link leave an empty line. */
export function incidentDetails(request: IncidentRequestInfo, link?: string): string {
  const summary = `${request.user} requested permissions for roles ${
    request.roles.join(", ")
  } on Teleport at ${formatRfc822(request.created)}.`;
  const reason = request.requestReason ? `Reason: ${request.requestReason}` : "";
  const approve = link ? `To approve or deny the request, proceed to ${link}` : "";
  return `${summary}\n${reason}\n${approve}\n`;
}

export function reviewNote(review: AccessReview): string {
  const head = `${review.author} reviewed the request at ${formatRfc822(review.created)}.\n` +
    `Resolution: ${review.proposedState}.\n`;
  return review.reason ? `${head}Reason: ${review.reason}.` : head;
}

export function resolutionNote(tag: ResolutionTag, reason: string): string {
  return `Access request has been ${tag}\n${reason ? `Reason: ${reason}` : ""}`;
}

/**
 * Link to the request in the Teleport web UI. `proxy` is the proxy's public address,
 * with or without a scheme (https assumed; its default port is dropped).
 */
export function requestLink(proxy: string, requestId: string): string {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `https://${proxy}`);
  url.pathname = `/web/requests/${encodeURIComponent(requestId)}`;
  return url.toString();
}

/** Go's `02 Jan 06 15:04 MST` layout, always in UTC. */
export function formatRfc822(date: Date | undefined): string {
  const d = date ?? GO_ZERO_TIME;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear() % 100)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** Shortens `text` to at most `max` characters (code points), never splitting a surrogate pair. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text; // UTF-16 length bounds the code-point count from above.
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return chars.slice(0, max - 1).join("") + TRUNCATION_MARK;
}

/** Shortens `text` to at most `maxBytes` UTF-8 bytes, cutting on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  const budget = new Uint8Array(maxBytes - encoder.encode(TRUNCATION_MARK).length);
  // encodeInto only writes whole characters, so `read` ends on a code-point boundary.
  const { read } = encoder.encodeInto(text, budget);
  return text.slice(0, read) + TRUNCATION_MARK;
}

/** The note of an auto-approval dry run: what the plugin would have done, and why. */
export function wouldApproveNote(reason: string): string {
  return `Auto-approval dry run: the plugin would have approved this request.\nReason: ${reason}`;
}
