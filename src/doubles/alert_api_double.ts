/**
 * The alert API doubles (Opsgenie, JSM Operations): the shared HTTP front plus the
 * alert state (an AlertStore) and the limits both APIs document.
 */
import { AlertStore, type DoubleAlert } from "./alert_store.ts";
import { HttpApiDouble } from "./http_api_double.ts";

export { ApiError, json } from "./http_api_double.ts";

export abstract class AlertApiDouble extends HttpApiDouble {
  protected readonly store = new AlertStore();

  /** The request id of every accepted write, in order. */
  get acceptedRequestIds(): readonly string[] {
    return this.store.acceptedRequestIds;
  }

  /** Adds a schedule; `onCall` lists the usernames on call now. */
  addSchedule(spec: { name: string; id?: string; onCall?: string[] }): { id: string; name: string } {
    return this.store.addSchedule(spec);
  }

  /** Replaces who is on call now in a schedule (by name or id). */
  setOnCall(schedule: string, users: string[]): void {
    this.store.setOnCall(schedule, users);
  }

  /** Snapshots of every alert, oldest first. */
  alerts(): DoubleAlert[] {
    return this.store.alerts();
  }

  /** The open alert with this alias, else the newest closed one. */
  alertByAlias(alias: string): DoubleAlert | undefined {
    const found = this.store.find(alias, "alias");
    return found && this.store.alerts().find((a) => a.id === found.id);
  }

  /** The status reads of every write accepted from now on answer "not processed yet" `n` times first. */
  setProcessingLag(n: number): void {
    this.store.setProcessingLag(n);
  }
}

/** Problems with fields over the documented alert limits (shared by both APIs). */
export function alertLimitProblems(body: unknown, creating: boolean): string[] {
  const limits = { message: 130, alias: 512, description: 15_000, tags: 20, tag: 50, note: 25_000 };
  if (typeof body !== "object" || body === null) return [];
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  const tooLong = (v: unknown, max: number) => typeof v === "string" && [...v].length > max;
  if (creating) {
    for (const field of ["message", "alias", "description"] as const) {
      if (tooLong(b[field], limits[field])) {
        problems.push(`body.${field} is longer than ${limits[field]} characters`);
      }
    }
    const tags = Array.isArray(b.tags) ? b.tags : [];
    if (tags.length > limits.tags) problems.push(`body.tags has more than ${limits.tags} tags`);
    if (tags.some((t) => tooLong(t, limits.tag))) {
      problems.push(`body.tags has a tag longer than ${limits.tag} characters`);
    }
  }
  if (tooLong(b.note, limits.note)) problems.push(`body.note is longer than ${limits.note} characters`);
  return problems;
}
