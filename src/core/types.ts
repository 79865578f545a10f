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
  /** When the request expires (access_request.spec.expiry in rule conditions). */
  expires?: Date;
  requestReason: string;
  resolveReason: string;
  /** Request system annotations (`map[string][]string`). */
  systemAnnotations: Record<string, string[]>;
  reviews: AccessReview[];
  suggestedReviewers: string[];
  /** Resources requested by id ("/cluster/kind/name"); absent or empty for role requests. */
  requestedResourceIds?: string[];
}

/** One shift of a rule schedule: a weekday and inclusive "HH:MM" bounds. */
export interface RuleShift {
  weekday: string;
  start: string;
  end: string;
}

/** A rule schedule: shifts in an IANA time zone ("" = UTC). */
export interface RuleSchedule {
  timezone: string;
  shifts: RuleShift[];
}

/** An access_monitoring_rule resource, as far as notification routing needs it. */
export interface AccessMonitoringRule {
  name: string;
  subjects: string[];
  condition: string;
  /** Absent when the rule only does automatic review. */
  notification?: { name: string; recipients: string[] };
  /** Named schedules; empty = always. */
  schedules: Record<string, RuleSchedule>;
}

export type WatchEvent =
  | { type: "init"; confirmedKinds: string[] }
  /** The stream ended or failed; a reconnect (and a new INIT) follows unless the watch ends. */
  | { type: "lost"; reason: string }
  | { type: "put"; request: AccessRequest }
  /** An access_monitoring_rule was created or updated (its deletion is a "delete" with this kind). */
  | { type: "rule"; kind: "access_monitoring_rule"; rule: AccessMonitoringRule }
  | { type: "delete"; kind: string; id: string };

/** A plugin data entry: a flat string map, as Teleport stores it. */
export type PluginDataMap = Record<string, string>;

/** The watch kind of Access Monitoring Rules. */
export const KIND_ACCESS_MONITORING_RULE = "access_monitoring_rule";
