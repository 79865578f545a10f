/**
 * The plugin's state for one access request, stored in Teleport plugin data.
 *
 * The first nine keys are exactly the Go plugin's, with its encodings, so a fleet
 * can switch between the two plugins without duplicate incidents. Our additions
 * live in extra keys the Go plugin never writes (its updates only touch its own nine).
 */
import type { ResolutionTag } from "./backend.ts";

export interface ExtraIncident {
  target: string;
  serviceId: string;
  incidentId: string;
}

export interface PluginState {
  // The Go plugin's keys.
  incidentId: string;
  serviceId: string;
  user: string;
  roles: string[];
  /** Unix seconds; undefined when unknown. */
  created?: number;
  requestReason: string;
  /** Reviews already posted as notes. */
  reviewsCount: number;
  resolution: ResolutionTag | "";
  resolveReason: string;
  // Our additions.
  /** Notify target (annotation value) of the first incident. */
  target: string;
  /** Incidents in the second and later notify targets. */
  extraIncidents: ExtraIncident[];
  /** "<instance>@<unix ms>": the instance doing this request's side effects, until when. */
  lease: string;
  /** The resolution note is posted; the incident(s) still need closing. */
  resolutionNoted: boolean;
  /** The on-call auto-approval check ran to a decision. */
  approvalChecked: boolean;
}

export const EMPTY_STATE: PluginState = {
  incidentId: "",
  serviceId: "",
  user: "",
  roles: [],
  created: undefined,
  requestReason: "",
  reviewsCount: 0,
  resolution: "",
  resolveReason: "",
  target: "",
  extraIncidents: [],
  lease: "",
  resolutionNoted: false,
  approvalChecked: false,
};

/** The Go plugin's keys, always written (empty string deletes a key in Teleport). */
export const GO_KEYS = [
  "incident_id",
  "service_id",
  "user",
  "roles",
  "created",
  "request_reason",
  "reviews_count",
  "resolution",
  "resolve_reason",
] as const;

const RESOLUTIONS: ReadonlySet<string> = new Set(["approved", "denied", "promoted", "expired"]);

export function encodePluginState(state: PluginState): Record<string, string> {
  return {
    incident_id: state.incidentId,
    service_id: state.serviceId,
    user: state.user,
    roles: state.roles.join(","),
    created: state.created === undefined ? "" : String(state.created),
    request_reason: state.requestReason,
    reviews_count: state.reviewsCount === 0 ? "" : String(state.reviewsCount),
    resolution: state.resolution,
    resolve_reason: state.resolveReason,
    target: state.target,
    extra_incidents: state.extraIncidents.length === 0 ? "" : JSON.stringify(state.extraIncidents),
    lease: state.lease,
    resolution_noted: state.resolutionNoted ? "true" : "",
    approval_checked: state.approvalChecked ? "true" : "",
  };
}

export function decodePluginState(data: Record<string, string> | null | undefined): PluginState {
  if (!data) return { ...EMPTY_STATE, roles: [], extraIncidents: [] };
  const created = Number.parseInt(data.created ?? "", 10);
  const reviews = Number.parseInt(data.reviews_count ?? "", 10);
  const resolution = data.resolution ?? "";
  return {
    incidentId: data.incident_id ?? "",
    serviceId: data.service_id ?? "",
    user: data.user ?? "",
    roles: data.roles ? data.roles.split(",") : [],
    created: Number.isFinite(created) ? created : undefined,
    requestReason: data.request_reason ?? "",
    reviewsCount: Number.isFinite(reviews) && reviews > 0 ? reviews : 0,
    resolution: RESOLUTIONS.has(resolution) ? resolution as ResolutionTag : "",
    resolveReason: data.resolve_reason ?? "",
    target: data.target ?? "",
    extraIncidents: decodeExtraIncidents(data.extra_incidents),
    lease: data.lease ?? "",
    resolutionNoted: data.resolution_noted === "true",
    approvalChecked: data.approval_checked === "true",
  };
}

function decodeExtraIncidents(raw: string | undefined): ExtraIncident[] {
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((item): item is ExtraIncident =>
      typeof item?.target === "string" && typeof item?.serviceId === "string" &&
      typeof item?.incidentId === "string"
    );
  } catch {
    // Written by us, so garbage means someone edited it by hand: treat as none.
    return [];
  }
}
