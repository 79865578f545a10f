/**
 * Opsgenie as the core's backend (upstream's App path, spec §1.3–§1.6): one alert per
 * request for all its responders (schedules from `teleport.dev/notify-services`, teams
 * from `teleport.dev/teams`, the configured defaults when the request names neither),
 * review and resolution notes, close, and auto-approval of a requester on call now in
 * a `teleport.dev/schedules` schedule.
 *
 * Recipients travel through the core as "schedule:<name or id>" and "team:<name or id>".
 * A recipient without either prefix (what an Access Monitoring Rule names) is a
 * schedule, as upstream treats rule recipients.
 */
import type {
  Backend,
  Note,
  NoteOptions,
  Notification,
  OnCallResult,
  RequestRecipients,
  Resolution,
} from "../../core/backend.ts";
import type { AccessRequest } from "../../core/types.ts";
import { type OpsgenieClient, type Responder, responder } from "./client.ts";
import { ALERT_KEY, alertOf, opsgenieCodec } from "./codec.ts";
import { alertAlias, alertDescription, alertMessage, alertTags, approvalReason, noteText } from "./texts.ts";

export const NOTIFY_SCHEDULES_ANNOTATION = "teleport.dev/notify-services";
export const TEAMS_ANNOTATION = "teleport.dev/teams";
export const APPROVE_SCHEDULES_ANNOTATION = "teleport.dev/schedules";

export interface OpsgenieBackendOptions {
  /** Schedules to notify when the request names no schedule and no team. */
  defaultSchedules: string[];
  /** Teams to notify when the request names no team (and is not approval-only). */
  defaultTeams: string[];
  tags: string[];
  /** P1–P5; undefined leaves Opsgenie's default (P3). */
  priority?: string;
}

type Kind = "schedule" | "team";

/** "schedule:<v>" / "team:<v>". */
export function recipient(kind: Kind, value: string): string {
  return `${kind}:${value}`;
}

function parseRecipient(value: string): Responder {
  const prefixed = /^(schedule|team):(.+)$/.exec(value);
  return prefixed ? responder(prefixed[1] as Kind, prefixed[2]) : responder("schedule", value);
}

/** Values of a list annotation, sorted and de-duplicated (upstream's GetNamesFromAnnotations); null when absent or empty. */
function annotation(request: AccessRequest, key: string): string[] | null {
  const values = (request.systemAnnotations[key] ?? []).map((v) => v.trim()).filter((v) => v !== "");
  return values.length === 0 ? null : [...new Set(values)].sort();
}

export class OpsgenieBackend implements Backend {
  readonly pluginName = "opsgenie";
  readonly notificationNoun: string;
  readonly codec = opsgenieCodec;
  readonly #client: OpsgenieClient;
  readonly #o: OpsgenieBackendOptions;
  readonly #tags: string[];

  constructor(client: OpsgenieClient, options: OpsgenieBackendOptions) {
    this.#client = client;
    this.#o = options;
    this.#tags = alertTags(options.tags);
    this.notificationNoun = `${client.product} alert`;
  }

  recipientsOf(request: AccessRequest): RequestRecipients {
    const schedules = annotation(request, NOTIFY_SCHEDULES_ANNOTATION);
    const teams = annotation(request, TEAMS_ANNOTATION);
    const approval = annotation(request, APPROVE_SCHEDULES_ANNOTATION) ?? [];
    const skipped: string[] = [];
    let notify: string[] = [];
    if (schedules === null && teams === null && approval.length > 0) {
      // Teleport v16: an approval-only request gets no alert, but the approval check runs.
      skipped.push(
        `request has ${APPROVE_SCHEDULES_ANNOTATION} but no ${NOTIFY_SCHEDULES_ANNOTATION}: no alert`,
      );
    } else {
      notify = [
        ...(schedules ?? this.#o.defaultSchedules).map((s) => recipient("schedule", s)),
        ...(teams ?? this.#o.defaultTeams).map((t) => recipient("team", t)),
      ];
      if (notify.length === 0) {
        skipped.push(
          `request has no ${NOTIFY_SCHEDULES_ANNOTATION} or ${TEAMS_ANNOTATION} and no defaults are set`,
        );
      }
    }
    if (approval.length === 0) skipped.push(`request annotation ${APPROVE_SCHEDULES_ANNOTATION} is missing`);
    return { notify, approval, skipped };
  }

  /** One alert for all responders. */
  notificationKeys(_recipients: string[]): string[] {
    return [ALERT_KEY];
  }

  async notify(
    _key: string,
    recipients: string[],
    request: AccessRequest,
    link: string | undefined,
    signal: AbortSignal,
  ): Promise<Notification> {
    const alert = await this.#client.createAlert({
      message: alertMessage(request.user),
      alias: alertAlias(request.id),
      description: alertDescription(request, link),
      responders: recipients.map(parseRecipient),
      tags: this.#tags,
      priority: this.#o.priority,
    }, { signal });
    return { key: ALERT_KEY, ids: { alertId: alert.id, alias: alert.alias } };
  }

  async annotate(notification: Notification, note: Note, options: NoteOptions): Promise<void> {
    const alert = alertOf(notification);
    const text = noteText(note);
    if (options.unlessPosted && (await this.#client.listNotes(alert, options)).includes(text)) return;
    await this.#client.addNote(alert, text, options);
  }

  async resolve(notification: Notification, _resolution: Resolution, signal: AbortSignal): Promise<void> {
    // The resolution note was posted by `annotate`; the close itself carries none.
    await this.#client.closeAlert(alertOf(notification), { signal });
  }

  /**
   * On call now in one of the schedules. Opsgenie: the Teleport user name is the on-call
   * login e-mail, matched exactly (upstream's rule); JSM: the account found for it.
   */
  async findOnCall(request: AccessRequest, recipients: string[], signal: AbortSignal): Promise<OnCallResult> {
    const me = await this.#client.identityOf(request.user, { signal });
    if (me === null) return { onCall: false, why: `${this.#client.product} has no user ${request.user}` };
    const matched: string[] = [];
    const missing: string[] = [];
    for (const schedule of recipients) {
      const users = await this.#client.onCallUsers(schedule, { signal });
      if (users === null) missing.push(schedule);
      else if (users.includes(me)) matched.push(schedule);
    }
    if (matched.length > 0) return { onCall: true, reason: approvalReason(request.user, matched) };
    if (missing.length === recipients.length) {
      return { onCall: false, why: `failed to find any schedule of ${recipients.join(", ")}` };
    }
    return { onCall: false, why: "user is not on call" };
  }

  async healthCheck(signal: AbortSignal): Promise<void> {
    await this.#client.healthCheck({ signal });
  }

  logFields(notification: Notification): Record<string, string> {
    return { opsgenie_alert_id: notification.ids.alertId ?? "" };
  }
}
