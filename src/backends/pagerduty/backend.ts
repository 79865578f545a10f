/** PagerDuty as the core's incident backend: services are the notify and approval targets. */
import type {
  IncidentBackend,
  IncidentRef,
  NoteOptions,
  OnCallResult,
  Resolution,
} from "../../core/backend.ts";
import type { AccessRequest, AccessReview } from "../../core/types.ts";
import type { PagerDutyClient, PagerDutyService } from "./client.ts";
import { incidentDetails, incidentTitle, resolutionNote, reviewNote } from "./texts.ts";

export interface RequestAnnotations {
  notifyService: string;
  services: string;
}

export class PagerDutyBackend implements IncidentBackend {
  readonly pluginName = "pagerduty";
  readonly notifyAnnotation: string;
  readonly approvalAnnotation: string;
  readonly #client: PagerDutyClient;

  constructor(client: PagerDutyClient, annotations: RequestAnnotations) {
    this.#client = client;
    this.notifyAnnotation = annotations.notifyService;
    this.approvalAnnotation = annotations.services;
  }

  async healthCheck(signal?: AbortSignal): Promise<void> {
    await this.#client.healthCheck({ signal });
  }

  async createIncident(
    target: string,
    request: AccessRequest,
    link: string | undefined,
    signal?: AbortSignal,
  ): Promise<IncidentRef> {
    const service = await this.#client.findServiceByName(target, { signal });
    if (!service) throw new Error(`failed to find pagerduty service by name ${target}`);
    const incident = await this.#client.createIncident({
      serviceId: service.id,
      requestId: request.id,
      title: incidentTitle(request.user),
      details: incidentDetails(request, link),
    }, { signal });
    return { target, serviceId: service.id, incidentId: incident.id };
  }

  async postReviewNote(
    incident: IncidentRef,
    review: AccessReview,
    options: NoteOptions = {},
  ): Promise<void> {
    await this.#postNote(incident, reviewNote(review), options);
  }

  async postResolutionNote(
    incident: IncidentRef,
    resolution: Resolution,
    options: NoteOptions = {},
  ): Promise<void> {
    await this.#postNote(incident, resolutionNote(resolution.tag, resolution.reason), options);
  }

  async #postNote(
    incident: IncidentRef,
    content: string,
    { signal, unlessPosted }: NoteOptions,
  ): Promise<void> {
    if (unlessPosted && (await this.#client.listNotes(incident.incidentId, { signal })).includes(content)) {
      return;
    }
    await this.#client.addNote(incident.incidentId, content, { signal });
  }

  async closeIncident(incident: IncidentRef, signal?: AbortSignal): Promise<void> {
    await this.#client.resolveIncident(incident.incidentId, { signal });
  }

  /** On call now, at any escalation level, in the escalation policy of one of the services. */
  async findOnCall(email: string, targets: string[], signal?: AbortSignal): Promise<OnCallResult> {
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
    return { onCall: true, userName: user.name, userEmail: user.email, services: names };
  }
}
