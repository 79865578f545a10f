/**
 * The incident backend port: what the core needs from PagerDuty (and, later,
 * Opsgenie). Every method must be safe to call again after a failure or a crash:
 * creation is keyed by the request id, so a repeat returns the existing incident.
 */
import type { AccessRequest, AccessReview } from "./types.ts";

/** Where one request's incident lives in the backend. */
export interface IncidentRef {
  /** The notify target as named in the request annotation. */
  target: string;
  serviceId: string;
  incidentId: string;
}

export type ResolutionTag = "approved" | "denied" | "promoted" | "expired";

export interface Resolution {
  tag: ResolutionTag;
  reason: string;
}

/** A requester found on call; `services` are the annotated targets that matched. */
export type OnCallResult =
  | { onCall: true; userName: string; userEmail: string; services: string[] }
  | { onCall: false; why: string };

/** How to post a note. */
export interface NoteOptions {
  /** A pass must finish within its lease, so peers never overlap it. */
  signal?: AbortSignal;
  /**
   * Skip the note when the incident already has one with the same text: used when
   * taking over from an instance that died mid-pass, which may have posted it.
   */
  unlessPosted?: boolean;
}

/** Every call takes a signal: a pass must finish within its lease, so peers never overlap it. */
export interface IncidentBackend {
  /** Plugin data entry name, e.g. "pagerduty". */
  readonly pluginName: string;
  /** Request annotation naming the notify target(s). */
  readonly notifyAnnotation: string;
  /** Request annotation listing the targets whose on-call users are auto-approved. */
  readonly approvalAnnotation: string;

  healthCheck(signal?: AbortSignal): Promise<void>;
  /** Idempotent: a second call for the same request and target returns the same incident. */
  createIncident(
    target: string,
    request: AccessRequest,
    link: string | undefined,
    signal?: AbortSignal,
  ): Promise<IncidentRef>;
  postReviewNote(incident: IncidentRef, review: AccessReview, options?: NoteOptions): Promise<void>;
  postResolutionNote(incident: IncidentRef, resolution: Resolution, options?: NoteOptions): Promise<void>;
  closeIncident(incident: IncidentRef, signal?: AbortSignal): Promise<void>;
  /** Is `email` on call now for any of `targets`? */
  findOnCall(email: string, targets: string[], signal?: AbortSignal): Promise<OnCallResult>;
}
