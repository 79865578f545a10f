/**
 * Plugin-data keys every backend shares:
 * - the request keys upstream's PagerDuty and Opsgenie plugins both store beside their
 *   own id keys (`user`, `roles`, `created`, `request_reason`, `reviews_count`,
 *   `resolution`, `resolve_reason`), with upstream's encodings;
 * - the core's bookkeeping (lease, progress flags, recipients), which upstream plugins
 *   never write, so it survives a peer running upstream's plugin.
 */
import type { ResolutionTag } from "../core/backend.ts";
import type { PluginState } from "../core/state.ts";
import type { PluginDataMap } from "../core/types.ts";

const RESOLUTIONS: ReadonlySet<string> = new Set(["approved", "denied", "promoted", "expired"]);

/** The request as upstream's plugins remember it. */
export type RequestKeys = Pick<
  PluginState,
  "user" | "roles" | "created" | "requestReason" | "reviewsCount" | "resolution" | "resolveReason"
>;

/** Upstream's request keys; "" deletes a key in Teleport, so unset values are "". */
export function encodeRequestKeys(state: RequestKeys): PluginDataMap {
  return {
    user: state.user,
    roles: state.roles.join(","),
    created: state.created === undefined ? "" : String(state.created),
    request_reason: state.requestReason,
    reviews_count: state.reviewsCount === 0 ? "" : String(state.reviewsCount),
    resolution: state.resolution,
    resolve_reason: state.resolveReason,
  };
}

/** Reads upstream's request keys; missing or malformed values read as empty. */
export function decodeRequestKeys(data: PluginDataMap): RequestKeys {
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
  };
}

/**
 * Our keys beyond the backend's own: the same for every backend, so they are written
 * and read in one place.
 */
export function encodeExtras(state: PluginState, backendKeys: PluginDataMap): PluginDataMap {
  return {
    ...backendKeys,
    recipients: state.recipients.length === 0 ? "" : JSON.stringify(state.recipients),
    lease: state.lease,
    resolution_noted: state.resolutionNoted ? "true" : "",
    approval_checked: state.approvalChecked ? "true" : "",
    verify_notes: state.verifyNotes ? "true" : "",
    finished: state.finished ? "true" : "",
    failure: state.failure,
  };
}

/** Reads the keys `encodeExtras` writes. */
export function decodeExtras(
  data: PluginDataMap,
): Pick<
  PluginState,
  "recipients" | "lease" | "resolutionNoted" | "approvalChecked" | "verifyNotes" | "finished" | "failure"
> {
  return {
    recipients: decodeStringList(data.recipients),
    lease: data.lease ?? "",
    resolutionNoted: data.resolution_noted === "true",
    approvalChecked: data.approval_checked === "true",
    verifyNotes: data.verify_notes === "true",
    finished: data.finished === "true",
    failure: data.failure ?? "",
  };
}

function decodeStringList(raw: string | undefined): string[] {
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}
