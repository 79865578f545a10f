/**
 * The plugin's state for one access request, as the core sees it. Each backend's
 * codec maps it to plugin data (for PagerDuty, the Go plugin's keys plus ours), so
 * the core never knows key names.
 */
import type { Notification, ResolutionTag } from "./backend.ts";

export interface PluginState {
  /** Incidents or alerts opened so far, in the order of their keys. */
  notifications: Notification[];
  /** Recipients chosen when the request was first notified (annotations or rules). */
  recipients: string[];
  // What plugin data remembers of the request, for when Teleport has deleted it.
  user: string;
  roles: string[];
  /** Unix seconds; undefined when unknown. */
  created?: number;
  requestReason: string;
  /** Reviews already posted as notes (on every notification). */
  reviewsCount: number;
  resolution: ResolutionTag | "";
  resolveReason: string;
  /** "<instance>@<unix ms>": the instance doing this request's side effects, until when. */
  lease: string;
  /** The resolution note is posted; the notifications still need resolving. */
  resolutionNoted: boolean;
  /** The on-call auto-approval check ran to a decision. */
  approvalChecked: boolean;
  /** A note's outcome is unknown (an attempt failed after sending): check before posting again. */
  verifyNotes: boolean;
  /** Nothing is left to do for this request: resync skips it. */
  finished: boolean;
  /** Why the last pass stopped on a permanent error ("" when none). */
  failure: string;
}

/** A fresh state, with new arrays each time. */
export function emptyState(): PluginState {
  return {
    notifications: [],
    recipients: [],
    user: "",
    roles: [],
    created: undefined,
    requestReason: "",
    reviewsCount: 0,
    resolution: "",
    resolveReason: "",
    lease: "",
    resolutionNoted: false,
    approvalChecked: false,
    verifyNotes: false,
    finished: false,
    failure: "",
  };
}

/** Nothing left to do: resolved, or marked finished. */
export function isFinished(state: PluginState): boolean {
  return state.finished || state.resolution !== "";
}
