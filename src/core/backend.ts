/**
 * The backend port: what the core needs from an on-call tool (PagerDuty, Opsgenie,
 * Jira Service Management Operations). The core knows an access request, its
 * recipients, the plugin's own state, and a backend that can notify, annotate,
 * resolve and answer "is this person on call for these recipients".
 *
 * Every call must be safe to repeat after a failure or a crash: creation is keyed by
 * the request id, so a repeat returns the existing incident or alert. Errors should
 * carry `failure: "transient" | "permanent"` (see ./errors.ts); anything else is
 * treated as transient.
 */
import type { AccessRequest, AccessReview, PluginDataMap } from "./types.ts";
import type { PluginState } from "./state.ts";

export type ResolutionTag = "approved" | "denied" | "promoted" | "expired";

export interface Resolution {
  tag: ResolutionTag;
  reason: string;
}

/** One incident or alert the backend opened for a request. */
export interface Notification {
  /**
   * The recipient group it serves, as returned by `notificationKeys`: for PagerDuty a
   * service name (one incident per service), for Opsgenie "" (one alert for all).
   */
  key: string;
  /** The backend's ids for it (e.g. service and incident id), kept in plugin data. */
  ids: Record<string, string>;
}

/** Whom a request concerns, as the backend reads it from the request (annotations, defaults). */
export interface RequestRecipients {
  /** Recipients to notify; empty when the request names none. */
  notify: string[];
  /** Recipients whose on-call users are auto-approved; empty when none. */
  approval: string[];
  /** Why a list is empty, for debug logs. */
  skipped: string[];
}

/** The answer to "is the requester on call", with the review reason or why not. */
export type OnCallResult = { onCall: true; reason: string } | { onCall: false; why: string };

/** What a note says. */
export type Note =
  | { kind: "review"; review: AccessReview }
  | { kind: "resolution"; resolution: Resolution }
  /** Auto-approval dry run: the plugin would have approved, for this reason. */
  | { kind: "would-approve"; reason: string };

export interface NoteOptions {
  signal: AbortSignal;
  /**
   * Check the notification's existing notes first and skip an identical one: set when
   * an earlier attempt's outcome is unknown (a timeout, a crashed peer, a partial
   * failure across several notifications).
   */
  unlessPosted: boolean;
}

/** Plugin data format of one backend: Go-compatible keys live behind this. */
export interface PluginStateCodec {
  encode(state: PluginState): PluginDataMap;
  decode(data: PluginDataMap): PluginState;
}

export interface Backend {
  /** Plugin data entry name and log name, e.g. "pagerduty". */
  readonly pluginName: string;
  /** What a notification is called in logs: "PagerDuty incident", "Opsgenie alert". */
  readonly notificationNoun: string;
  readonly codec: PluginStateCodec;
  /** Reads the request's recipients (its system annotations, the configured defaults). */
  recipientsOf(request: AccessRequest): RequestRecipients;
  /** Groups notify recipients into notifications: one key per incident or alert to open. */
  notificationKeys(recipients: string[]): string[];
  /** Opens (or finds, when it exists) the notification `key` for the request. */
  notify(
    key: string,
    recipients: string[],
    request: AccessRequest,
    link: string | undefined,
    signal: AbortSignal,
  ): Promise<Notification>;
  annotate(notification: Notification, note: Note, options: NoteOptions): Promise<void>;
  resolve(notification: Notification, resolution: Resolution, signal: AbortSignal): Promise<void>;
  /** Is the requester on call now for any of `recipients`? Includes the backend's identity rule (e.g. email). */
  findOnCall(request: AccessRequest, recipients: string[], signal: AbortSignal): Promise<OnCallResult>;
  healthCheck(signal: AbortSignal): Promise<void>;
  /** Log fields naming a notification in the backend's style (`pd_incident_id`, …). */
  logFields(notification: Notification): Record<string, string>;
}
