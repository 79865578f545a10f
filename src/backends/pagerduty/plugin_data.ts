/**
 * PagerDuty's plugin data: the core's state for one request, stored under the
 * plugin name "pagerduty".
 *
 * The first nine keys are exactly the Go plugin's, with its encodings, so a fleet
 * can switch between the two plugins without duplicate incidents: the first
 * incident's ids go to `incident_id`/`service_id`. Our additions live in extra keys
 * the Go plugin never writes (its updates only touch its own nine).
 */
import type { Notification, PluginStateCodec, ResolutionTag } from "../../core/backend.ts";
import { emptyState, type PluginState } from "../../core/state.ts";
import { decodeExtras, encodeExtras } from "../plugin_data_extras.ts";
import type { PluginDataMap } from "../../core/types.ts";

/** An incident beyond the first, as kept in `extra_incidents`. */
export interface ExtraIncident {
  target: string;
  serviceId: string;
  incidentId: string;
}

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

/** A notification of this backend: one incident in one service. */
export function incidentNotification(target: string, serviceId: string, incidentId: string): Notification {
  return { key: target, ids: { service_id: serviceId, incident_id: incidentId } };
}

/** Encodes the state with the Go plugin's keys first. */
export function encodePluginState(state: PluginState): PluginDataMap {
  const [first, ...rest] = state.notifications;
  const extras: ExtraIncident[] = rest.map((n) => ({
    target: n.key,
    serviceId: n.ids.service_id ?? "",
    incidentId: n.ids.incident_id ?? "",
  }));
  return {
    incident_id: first?.ids.incident_id ?? "",
    service_id: first?.ids.service_id ?? "",
    user: state.user,
    roles: state.roles.join(","),
    created: state.created === undefined ? "" : String(state.created),
    request_reason: state.requestReason,
    reviews_count: state.reviewsCount === 0 ? "" : String(state.reviewsCount),
    resolution: state.resolution,
    resolve_reason: state.resolveReason,
    ...encodeExtras(state, {
      target: first?.key ?? "",
      extra_incidents: extras.length ? JSON.stringify(extras) : "",
    }),
  };
}

/** Decodes what either plugin wrote; unknown or malformed extras read as absent. */
export function decodePluginState(data: PluginDataMap | null | undefined): PluginState {
  if (!data) return emptyState();
  const created = Number.parseInt(data.created ?? "", 10);
  const reviews = Number.parseInt(data.reviews_count ?? "", 10);
  const resolution = data.resolution ?? "";
  const notifications: Notification[] = [];
  if (data.incident_id) {
    notifications.push(incidentNotification(data.target ?? "", data.service_id ?? "", data.incident_id));
  }
  for (const extra of decodeExtraIncidents(data.extra_incidents)) {
    notifications.push(incidentNotification(extra.target, extra.serviceId, extra.incidentId));
  }
  return {
    ...decodeExtras(data),
    notifications,
    user: data.user ?? "",
    roles: data.roles ? data.roles.split(",") : [],
    created: Number.isFinite(created) ? created : undefined,
    requestReason: data.request_reason ?? "",
    reviewsCount: Number.isFinite(reviews) && reviews > 0 ? reviews : 0,
    resolution: RESOLUTIONS.has(resolution) ? resolution as ResolutionTag : "",
    resolveReason: data.resolve_reason ?? "",
  };
}

/** The codec the core uses for PagerDuty. */
export const pagerDutyCodec: PluginStateCodec = { encode: encodePluginState, decode: decodePluginState };

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
