/** PagerDuty as the core's incident backend: services are the notify and approval targets. */
import type { IncidentBackend, IncidentRef, OnCallResult, Resolution } from "../core/backend.ts";
import type { AccessRequest, AccessReview } from "../teleport/types.ts";
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

  async healthCheck(): Promise<void> {
    await this.#client.healthCheck();
  }

  async createIncident(
    target: string,
    request: AccessRequest,
    link: string | undefined,
  ): Promise<IncidentRef> {
    const service = await this.#client.findServiceByName(target);
    if (!service) throw new Error(`failed to find pagerduty service by name ${target}`);
    const incident = await this.#client.createIncident({
      serviceId: service.id,
      requestId: request.id,
      title: incidentTitle(request.user),
      details: incidentDetails(request, link),
    });
    return { target, serviceId: service.id, incidentId: incident.id };
  }

  async postReviewNote(incident: IncidentRef, review: AccessReview): Promise<void> {
    await this.#client.addNote(incident.incidentId, reviewNote(review));
  }

  async postResolutionNote(incident: IncidentRef, resolution: Resolution): Promise<void> {
    await this.#client.addNote(incident.incidentId, resolutionNote(resolution.tag, resolution.reason));
  }

  async closeIncident(incident: IncidentRef): Promise<void> {
    await this.#client.resolveIncident(incident.incidentId);
  }

  /** On call now, at any escalation level, in the escalation policy of one of the services. */
  async findOnCall(email: string, targets: string[]): Promise<OnCallResult> {
    const user = await this.#client.findUserByEmail(email);
    if (!user) return { onCall: false, why: "email is not found" };
    const services: PagerDutyService[] = [];
    for (const name of targets) {
      const service = await this.#client.findServiceByName(name);
      if (service) services.push(service);
    }
    if (services.length === 0) {
      return { onCall: false, why: `failed to find any service of ${targets.join(", ")}` };
    }
    const byPolicy = Map.groupBy(
      services.filter((s) => s.escalationPolicyId !== ""),
      (s) => s.escalationPolicyId,
    );
    const onCallPolicies = await this.#client.onCallPolicies(user.id, [...byPolicy.keys()]);
    if (onCallPolicies.length === 0) return { onCall: false, why: "user is not on call" };
    const names = onCallPolicies.flatMap((policy) => byPolicy.get(policy)!.map((s) => s.name));
    return { onCall: true, userName: user.name, userEmail: user.email, services: names };
  }
}
