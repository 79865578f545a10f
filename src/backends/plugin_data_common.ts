/**
 * The plugin-data keys every backend shares. Upstream's PagerDuty and Opsgenie plugins
 * store the same request keys (`user`, `roles`, `created`, `request_reason`,
 * `reviews_count`, `resolution`, `resolve_reason`) next to their own id keys; our
 * additions live in extra keys the Go plugins never write (their updates only touch
 * their own keys), so a fleet can switch between the two implementations.
 */
import type { ResolutionTag } from "../core/backend.ts";
import type { PluginState } from "../core/state.ts";
import type { PluginDataMap } from "../core/types.ts";

/** The state minus the backend-specific notifications. */
export type CommonState = Omit<PluginState, "notifications">;

const RESOLUTIONS: ReadonlySet<string> = new Set(["approved", "denied", "promoted", "expired"]);

const flag = (on: boolean) => on ? "true" : "";

/** Encodes the shared keys; "" deletes a key in Teleport, so unset values are "". */
export function encodeCommon(state: CommonState): PluginDataMap {
  return {
    // Upstream's keys, with upstream's encodings.
    user: state.user,
    roles: state.roles.join(","),
    created: state.created === undefined ? "" : String(state.created),
    request_reason: state.requestReason,
    reviews_count: state.reviewsCount === 0 ? "" : String(state.reviewsCount),
    resolution: state.resolution,
    resolve_reason: state.resolveReason,
    // Ours.
    recipients: state.recipients.length === 0 ? "" : JSON.stringify(state.recipients),
    lease: state.lease,
    resolution_noted: flag(state.resolutionNoted),
    approval_checked: flag(state.approvalChecked),
    verify_notes: flag(state.verifyNotes),
    finished: flag(state.finished),
    failure: state.failure,
  };
}

/** Decodes the shared keys; anything missing or malformed reads as its empty value. */
export function decodeCommon(data: PluginDataMap): CommonState {
  const created = Number.parseInt(data.created ?? "", 10);
  const reviews = Number.parseInt(data.reviews_count ?? "", 10);
  const resolution = data.resolution ?? "";
  return {
    user: data.user ?? "",
    roles: data.roles ? data.roles.split(",") : [],
    created: Number.isFinite(created) ? created : undefined,
    requestReason: data.request_reason ?? "",
    reviewsCount: Number.isFinite(reviews) && reviews > 0 ? reviews : 0,
    resolution: RESOLUTIONS.has(resolution) ? resolution as ResolutionTag : "",
    resolveReason: data.resolve_reason ?? "",
    recipients: decodeList(data.recipients),
    lease: data.lease ?? "",
    resolutionNoted: data.resolution_noted === "true",
    approvalChecked: data.approval_checked === "true",
    verifyNotes: data.verify_notes === "true",
    finished: data.finished === "true",
    failure: data.failure ?? "",
  };
}

function decodeList(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
  } catch {
    // Written by us, so garbage means someone edited it by hand: treat as none.
    return [];
  }
}
