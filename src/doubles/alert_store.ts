/**
 * The state behind the alert API doubles (Opsgenie, JSM Operations): alerts with their
 * notes, the one-open-alert-per-alias rule, schedules with who is on call, and the
 * asynchronous request statuses every write leaves behind. The HTTP fronts map their
 * API's paths, envelopes and authentication onto it.
 */

export interface DoubleNote {
  note: string;
  user: string;
  source: string;
}

export interface DoubleAlert {
  id: string;
  tinyId: string;
  alias: string;
  message: string;
  description: string;
  responders: Array<Record<string, string>>;
  tags: string[];
  priority: string;
  status: "open" | "closed";
  /** How many creates were de-duplicated into this alert, plus one. */
  count: number;
  notes: DoubleNote[];
}

export interface DoubleSchedule {
  id: string;
  name: string;
  /** Usernames (Opsgenie: e-mails; JSM: account ids) on call now. */
  onCall: string[];
}

/** The processed outcome of a write, as the request-status endpoint reports it. */
export interface RequestStatus {
  action: string;
  success: boolean;
  status: string;
  alertId: string;
  alias: string;
  processedAt: string;
}

export type AlertIdentifierType = "id" | "alias" | "tiny";

export class AlertStore {
  /** The request id of every accepted write, in order. */
  readonly acceptedRequestIds: string[] = [];
  readonly #alerts: DoubleAlert[] = [];
  readonly #schedules: DoubleSchedule[] = [];
  readonly #statuses = new Map<string, RequestStatus & { lag: number }>();
  #lag = 0;
  #tiny = 1;

  /** Adds a schedule; `onCall` lists the usernames on call now. */
  addSchedule(spec: { name: string; id?: string; onCall?: string[] }): { id: string; name: string } {
    const schedule = {
      id: spec.id ?? crypto.randomUUID(),
      name: spec.name,
      onCall: [...(spec.onCall ?? [])],
    };
    this.#schedules.push(schedule);
    return { id: schedule.id, name: schedule.name };
  }

  /** Replaces who is on call now in the schedule named (or with the id) `schedule`. */
  setOnCall(schedule: string, users: string[]): void {
    const found = this.#schedules.find((s) => s.name === schedule || s.id === schedule);
    if (!found) throw new Error(`no schedule ${schedule}`);
    found.onCall = [...users];
  }

  /** The schedule with this id, or with this name when `byName`. */
  schedule(identifier: string, byName: boolean): DoubleSchedule | undefined {
    return this.#schedules.find((s) => byName ? s.name === identifier : s.id === identifier);
  }

  /** Snapshots of every alert, oldest first. */
  alerts(): DoubleAlert[] {
    return this.#alerts.map(copyAlert);
  }

  /** The status reads of every write accepted from now on answer "not processed yet" `n` times first. */
  setProcessingLag(n: number): void {
    this.#lag = n;
  }

  /** Creates an alert, or de-duplicates into the open one with the same alias; returns the request id. */
  create(body: Record<string, unknown>): string {
    const alias = typeof body.alias === "string" && body.alias !== "" ? body.alias : crypto.randomUUID();
    const open = this.#alerts.find((a) => a.alias === alias && a.status === "open");
    if (open) {
      open.count++;
      return this.#accept("Create", true, "Alert is deduplicated", open);
    }
    const alert: DoubleAlert = {
      id: `${crypto.randomUUID()}-${Date.now()}`,
      tinyId: String(this.#tiny++),
      alias,
      message: String(body.message),
      description: typeof body.description === "string" ? body.description : "",
      responders: Array.isArray(body.responders) ? body.responders : [],
      tags: Array.isArray(body.tags) ? body.tags : [],
      priority: typeof body.priority === "string" ? body.priority : "P3",
      status: "open",
      count: 1,
      notes: [],
    };
    this.#alerts.push(alert);
    return this.#accept("Create", true, "Created alert", alert);
  }

  /** Adds a note (applied at once; a missing alert fails in the request status). */
  addNote(identifier: string, type: AlertIdentifierType, body: Record<string, unknown>): string {
    const alert = this.find(identifier, type);
    if (!alert) return this.#accept("Add Note", false, "Alert does not exist", undefined);
    alert.notes.push({ note: String(body.note), user: str(body.user), source: str(body.source) });
    return this.#accept("Add Note", true, "Added note", alert);
  }

  /** Closes the alert (closing a closed one changes nothing); `note` is added when given. */
  close(identifier: string, type: AlertIdentifierType, body: Record<string, unknown> | undefined): string {
    const alert = this.find(identifier, type);
    if (!alert) return this.#accept("Close", false, "Alert does not exist", undefined);
    alert.status = "closed";
    if (typeof body?.note === "string" && body.note) {
      alert.notes.push({ note: body.note, user: "", source: "" });
    }
    return this.#accept("Close", true, "Closed alert", alert);
  }

  /** The outcome of a write, or null while it is "not processed yet" (or unknown). */
  status(requestId: string): RequestStatus | null {
    const status = this.#statuses.get(requestId);
    if (!status || status.lag-- > 0) return null;
    const { lag: _, ...outcome } = status;
    return outcome;
  }

  /** The alert an identifier names: by id, tiny id, or alias (the open one, else the newest). */
  find(identifier: string, type: AlertIdentifierType): DoubleAlert | undefined {
    switch (type) {
      case "alias":
        return this.#alerts.find((a) => a.alias === identifier && a.status === "open") ??
          this.#alerts.findLast((a) => a.alias === identifier);
      case "tiny":
        return this.#alerts.findLast((a) => a.tinyId === identifier);
      default:
        return this.#alerts.find((a) => a.id === identifier);
    }
  }

  #accept(action: string, success: boolean, status: string, alert: DoubleAlert | undefined): string {
    const requestId = crypto.randomUUID();
    this.acceptedRequestIds.push(requestId);
    this.#statuses.set(requestId, {
      action,
      success,
      status,
      alertId: alert?.id ?? "",
      alias: alert?.alias ?? "",
      processedAt: new Date().toISOString(),
      lag: this.#lag,
    });
    return requestId;
  }
}

/** A deep copy, so tests cannot change the store through a snapshot. */
export function copyAlert(a: DoubleAlert): DoubleAlert {
  return {
    ...a,
    responders: a.responders.map((r) => ({ ...r })),
    tags: [...a.tags],
    notes: a.notes.map((n) => ({ ...n })),
  };
}

/** An alert as the APIs render it. */
export function alertJson(a: DoubleAlert): Record<string, unknown> {
  return {
    id: a.id,
    tinyId: a.tinyId,
    alias: a.alias,
    message: a.message,
    description: a.description,
    status: a.status,
    acknowledged: false,
    count: a.count,
    tags: a.tags,
    priority: a.priority,
    responders: a.responders,
  };
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
