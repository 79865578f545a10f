/** PagerDuty as the core's backend: services are the recipients, one incident per service. */
import type {
  Backend,
  Note,
  NoteOptions,
  Notification,
  OnCallResult,
  RequestRecipients,
  Resolution,
} from "../../core/backend.ts";
import { PermanentError } from "../../core/errors.ts";
import { approvalTargets, notifyTargets } from "../../core/annotations.ts";
import type { AccessRequest } from "../../core/types.ts";
import { approvalReason, isBareEmail } from "./approval.ts";
import type { PagerDutyClient, PagerDutyService } from "./client.ts";
import { incidentNotification, pagerDutyCodec } from "./plugin_data.ts";
import { incidentDetails, incidentTitle, resolutionNote, reviewNote, wouldApproveNote } from "./texts.ts";

export interface RequestAnnotations {
  notifyService: string;
  services: string;
}

export class PagerDutyBackend implements Backend {
  readonly pluginName = "pagerduty";
  readonly notificationNoun = "PagerDuty incident";
  readonly codec = pagerDutyCodec;
  readonly #client: PagerDutyClient;
  readonly #annotations: RequestAnnotations;

  constructor(client: PagerDutyClient, annotations: RequestAnnotations) {
    this.#client = client;
    this.#annotations = annotations;
  }

  /** Checks the API key with a harmless read. */
  async healthCheck(signal: AbortSignal): Promise<void> {
    await this.#client.healthCheck({ signal });
  }

  /** Services from the notify annotation (in order) and the approval annotation (sorted), as upstream. */
  recipientsOf(request: AccessRequest): RequestRecipients {
    const notify = notifyTargets(request, this.#annotations.notifyService);
    const approval = approvalTargets(request, this.#annotations.services);
    const skipped = [
      ...(notify.ok ? [] : [`Skipping the notification: ${notify.why}`]),
      ...(approval.ok ? [] : [`Skipping the approval: ${approval.why}`]),
    ];
    return { notify: notify.ok ? notify.values : [], approval: approval.ok ? approval.values : [], skipped };
  }

  /** One incident per service. */
  notificationKeys(recipients: string[]): string[] {
    return recipients;
  }

  async notify(
    key: string,
    _recipients: string[],
    request: AccessRequest,
    link: string | undefined,
    signal: AbortSignal,
  ): Promise<Notification> {
    const service = await this.#client.findServiceByName(key, { signal });
    if (!service) throw new PermanentError(`failed to find pagerduty service by name ${key}`);
    const incident = await this.#client.createIncident({
      serviceId: service.id,
      requestId: request.id,
      title: incidentTitle(request.user),
      details: incidentDetails(request, link),
    }, { signal });
    return incidentNotification(key, service.id, incident.id);
  }

  async annotate(
    notification: Notification,
    note: Note,
    { signal, unlessPosted }: NoteOptions,
  ): Promise<void> {
    const incidentId = notification.ids.incident_id;
    const content = noteText(note);
    if (unlessPosted && (await this.#client.listNotes(incidentId, { signal })).includes(content)) return;
    await this.#client.addNote(incidentId, content, { signal });
  }

  async resolve(notification: Notification, _resolution: Resolution, signal: AbortSignal): Promise<void> {
    await this.#client.resolveIncident(notification.ids.incident_id, { signal });
  }

  /** On call now, at any escalation level, in the escalation policy of one of the services. */
  async findOnCall(request: AccessRequest, targets: string[], signal: AbortSignal): Promise<OnCallResult> {
    const email = request.user;
    if (!isBareEmail(email)) return { onCall: false, why: `"${email}" does not look like a valid email` };
    const user = await this.#client.findUserByEmail(email, { signal });
    if (!user) return { onCall: false, why: "email is not found" };
    const services: PagerDutyService[] = [];
    for (const name of targets) {
      const service = await this.#client.findServiceByName(name, { signal });
      if (service) services.push(service);
    }
    if (services.length === 0) {
      return { onCall: false, why: `failed to find any service of ${targets.join(", ")}` };
    }
    const byPolicy = Map.groupBy(
      services.filter((s) => s.escalationPolicyId !== ""),
      (s) => s.escalationPolicyId,
    );
    const onCallPolicies = await this.#client.onCallPolicies(user.id, [...byPolicy.keys()], { signal });
    if (onCallPolicies.length === 0) return { onCall: false, why: "user is not on call" };
    const names = onCallPolicies.flatMap((policy) => byPolicy.get(policy)!.map((s) => s.name));
    return { onCall: true, reason: approvalReason(user.name, user.email, names) };
  }

  /** The Go plugin's field names. */
  logFields(notification: Notification): Record<string, string> {
    return { pd_incident_id: notification.ids.incident_id ?? "", pd_service_name: notification.key };
  }
}

function noteText(note: Note): string {
  switch (note.kind) {
    case "review":
      return reviewNote(note.review);
    case "resolution":
      return resolutionNote(note.resolution.tag, note.resolution.reason);
    case "would-approve":
      return wouldApproveNote(note.reason);
  }
}
