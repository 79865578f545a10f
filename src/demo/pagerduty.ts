/**
 * The demo on PagerDuty: services "Teleport Notifications" and "Service 1" (with an
 * escalation policy, Bob on call), "Database On-Call" for the Access Monitoring Rule,
 * and the timeline's reading of the PagerDuty double's calls.
 */
import type { PagerDutyDouble, RecordedRequest } from "../doubles/pagerduty_double.ts";
import { BOT_EMAIL, startWorld, type World } from "../doubles/world.ts";
import type { DemoAdapter } from "./adapter.ts";
import { describeNote, shortId } from "./timeline.ts";

export const NOTIFY_SERVICE = "Teleport Notifications";
export const ONCALL_SERVICE = "Service 1";
export const DB_SERVICE = "Database On-Call";
const INCIDENT_KEY_PREFIX = "teleport-access-request/";

/** Starts the PagerDuty world with the guide's services; `oncallUser` is on call for Service 1. */
export async function startPagerDutyDemo(oncallUser: string): Promise<DemoAdapter<World>> {
  const world = await startWorld({ proxyPublicAddr: "teleport.example.com:443" });
  try {
    const pd = world.pagerduty;
    const notify = pd.addService({ name: NOTIFY_SERVICE });
    const oncall = pd.addService({ name: ONCALL_SERVICE });
    const db = pd.addService({ name: DB_SERVICE });
    pd.addUser({ name: "Teleport Bot", email: BOT_EMAIL });
    const bob = pd.addUser({ name: "Bob", email: oncallUser });
    pd.addOnCall({ userId: bob.id, escalationPolicyId: oncall.escalationPolicyId });
    const serviceNames = new Map([notify, oncall, db].map((s) => [s.id, s.name]));
    const incidentFor = (requestId: string) =>
      pd.incidents().find((i) => i.incidentKey === `${INCIDENT_KEY_PREFIX}${requestId}`);
    return {
      name: "pagerduty",
      product: "PagerDuty",
      noun: "incident",
      closedWord: "resolved",
      targetWord: "service",
      targets: { notify: NOTIFY_SERVICE, oncall: ONCALL_SERVICE, db: DB_SERVICE },
      world,
      api: pd,
      calls: {
        side: "plugin→pagerduty",
        requests: pd.requests,
        describe: (r) => describePagerDutyCall(pd, serviceNames, r),
      },
      annotations: (notify, approve) => ({
        pagerduty_notify_service: notify,
        ...(approve.length > 0 ? { pagerduty_services: approve } : {}),
      }),
      find(requestId) {
        const i = incidentFor(requestId);
        return i && {
          id: i.id,
          targets: [serviceNames.get(i.serviceId) ?? i.serviceId],
          notes: i.notes.map((n) => n.content),
          closed: i.status === "resolved",
        };
      },
      describeState: () => [
        ...pd.incidents().map((i) =>
          `  pagerduty  incident ${i.id} ${i.status}, ${i.notes.length} note(s), key ${i.incidentKey}`
        ),
        ...pd.violations.map((v) => `  pagerduty  contract violation: ${v.method} ${v.path}: ${v.problem}`),
      ],
    };
  } catch (err) {
    await world[Symbol.asyncDispose]();
    throw err;
  }
}

/** A successful PagerDuty write in one line. */
function describePagerDutyCall(
  pd: PagerDutyDouble,
  serviceNames: Map<string, string>,
  r: RecordedRequest,
): string | undefined {
  const body = (r.body ?? {}) as Record<string, Record<string, unknown> | undefined>;
  if (r.method === "POST" && r.path === "/incidents") {
    const incident = body.incident ?? {};
    const key = typeof incident.incident_key === "string" ? incident.incident_key : "";
    const created = pd.incidents().find((i) => i.incidentKey === key);
    const service = (incident.service as { id?: string } | undefined)?.id ?? "";
    const forRequest = key.startsWith(INCIDENT_KEY_PREFIX)
      ? ` for request ${shortId(key.slice(INCIDENT_KEY_PREFIX.length))}`
      : "";
    return `incident ${created?.id ?? "?"} "${incident.title}" opened in ${
      serviceNames.get(service) ?? service
    }${forRequest}`;
  }
  const note = r.path.match(/^\/incidents\/([^/]+)\/notes$/);
  if (r.method === "POST" && note) {
    return `note on ${note[1]}: ${describeNote(String(body.note?.content ?? ""))}`;
  }
  const update = r.path.match(/^\/incidents\/([^/]+)$/);
  if (r.method === "PUT" && update) {
    const status = body.incident?.status;
    return status === "resolved" ? `incident ${update[1]} resolved` : `incident ${update[1]} updated`;
  }
  return undefined;
}
