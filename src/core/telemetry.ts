/**
 * What the core reports about its work, for metrics. The composition root supplies
 * an implementation (a Prometheus registry); the default does nothing.
 */

/** The core's counters; labels are listed next to each. */
export type CoreCounter =
  /** A watch event. Labels: kind, operation (put, delete, init). */
  | "event"
  /** A pass ended. Labels: outcome (done, leased, transient, permanent, cancelled). */
  | "pass"
  /** An incident or alert was opened. */
  | "notification_created"
  /** A note was posted. Labels: kind (review, resolution, would-approve). */
  | "note"
  /** A request's notifications were resolved. Labels: resolution. */
  | "resolution"
  /** Auto-approval decisions. Labels: result (approved, already_reviewed, not_on_call, dry_run, refused). */
  | "auto_approval"
  /** A plugin-data compare-and-swap lost to another writer. */
  | "cas_conflict"
  /** A pass took over a request whose holder's lease had expired. */
  | "lease_takeover"
  /** The watch was lost and will reconnect. */
  | "watch_reconnect"
  /** A resync ran. Labels: outcome (ok, failed). */
  | "resync";

export interface CoreTelemetry {
  /** Counts one occurrence. */
  count(counter: CoreCounter, labels?: Record<string, string>): void;
  /** Records how long a pass took, in seconds. Labels: outcome. */
  passSeconds(seconds: number, outcome: string): void;
}

/** Discards everything. */
export const NO_TELEMETRY: CoreTelemetry = { count() {}, passSeconds() {} };
