/**
 * Plugin-data keys every backend shares: the core's bookkeeping (lease, progress
 * flags, recipients) beside each backend's own keys. Upstream plugins never write
 * these, so they survive a peer running upstream's plugin.
 */
import type { PluginState } from "../core/state.ts";
import type { PluginDataMap } from "../core/types.ts";

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
