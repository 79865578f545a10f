/**
 * Domain view of the Teleport resources the plugin uses. The gRPC client maps the
 * wire messages (src/teleport/gen) into these plain shapes so the core never sees
 * protobuf types.
 */

export type RequestState = "NONE" | "PENDING" | "APPROVED" | "DENIED" | "PROMOTED";

export interface AccessReview {
  author: string;
  proposedState: RequestState;
  reason: string;
  /** undefined when unset on the wire (absent or Go's zero time). */
  created?: Date;
}

export interface AccessRequest {
  id: string;
  user: string;
  roles: string[];
  state: RequestState;
  created?: Date;
  requestReason: string;
  resolveReason: string;
  /** Request system annotations (`map[string][]string`). */
  systemAnnotations: Record<string, string[]>;
  reviews: AccessReview[];
  suggestedReviewers: string[];
}

export type WatchEvent =
  | { type: "init"; confirmedKinds: string[] }
  /** The stream ended or failed; a reconnect (and a new INIT) follows unless the watch ends. */
  | { type: "lost"; reason: string }
  | { type: "put"; request: AccessRequest }
  | { type: "delete"; kind: string; id: string };

/** A plugin data entry: a flat string map, as Teleport stores it. */
export type PluginDataMap = Record<string, string>;
