/**
 * The demo on Opsgenie: schedules "Teleport Notifications" (alerts), "Platform On-Call"
 * (Bob on call: `teleport.dev/schedules` auto-approval) and "Database On-Call" for the
 * Access Monitoring Rule, and the timeline's reading of the Opsgenie double's calls.
 */
import type { DoubleAlert } from "../doubles/alert_store.ts";
import type { OpsgenieDouble, RecordedRequest } from "../doubles/opsgenie_double.ts";
import { type OpsgenieWorld, startOpsgenieWorld } from "../doubles/opsgenie_world.ts";
import { APPROVE_SCHEDULES_ANNOTATION, NOTIFY_SCHEDULES_ANNOTATION } from "../backends/opsgenie/backend.ts";
import { ALIAS_PREFIX } from "../backends/opsgenie/texts.ts";
import type { DemoAdapter } from "./adapter.ts";
import { describeNote, shortId } from "./timeline.ts";

export const NOTIFY_SCHEDULE = "Teleport Notifications";
export const ONCALL_SCHEDULE = "Platform On-Call";
export const DB_SCHEDULE = "Database On-Call";

/** Starts the Opsgenie world with the demo's schedules; `oncallUser` is on call in Platform On-Call. */
export async function startOpsgenieDemo(oncallUser: string): Promise<DemoAdapter<OpsgenieWorld>> {
  const world = await startOpsgenieWorld("opsgenie", { proxyPublicAddr: "teleport.example.com:443" });
  try {
    const og = world.alerts as OpsgenieDouble;
    world.addSchedule(NOTIFY_SCHEDULE);
    world.addSchedule(ONCALL_SCHEDULE, [oncallUser]);
    world.addSchedule(DB_SCHEDULE);
    return {
      name: "opsgenie",
      product: "Opsgenie",
      noun: "alert",
      closedWord: "closed",
      targetWord: "schedule",
      targets: { notify: NOTIFY_SCHEDULE, oncall: ONCALL_SCHEDULE, db: DB_SCHEDULE },
      world,
      api: og,
      calls: { side: "plugin→opsgenie", requests: og.requests, describe: (r) => describeOpsgenieCall(og, r) },
      annotations: (notify, approve) => ({
        [NOTIFY_SCHEDULES_ANNOTATION]: notify,
        ...(approve.length > 0 ? { [APPROVE_SCHEDULES_ANNOTATION]: approve } : {}),
      }),
      find(requestId) {
        const a = og.alertByAlias(`${ALIAS_PREFIX}/${requestId}`);
        return a && {
          id: `#${a.tinyId}`,
          targets: responderNames(a),
          notes: a.notes.map((n) => n.note),
          closed: a.status === "closed",
        };
      },
      describeState: () => [
        ...og.alerts().map((a) =>
          `  opsgenie   alert #${a.tinyId} ${a.status}, ${a.notes.length} note(s), alias ${a.alias}`
        ),
        ...og.violations.map((v) => `  opsgenie   contract violation: ${v.method} ${v.path}: ${v.problem}`),
      ],
    };
  } catch (err) {
    await world[Symbol.asyncDispose]();
    throw err;
  }
}

function responderNames(alert: Pick<DoubleAlert, "responders">): string[] {
  return alert.responders.map((r) => r.name ?? r.id ?? "?");
}

/** The alert an identifier names (`identifierType` id, alias or tiny), newest first. */
function alertNamed(og: OpsgenieDouble, identifier: string, type: string | null): DoubleAlert | undefined {
  if (type === "alias") return og.alertByAlias(identifier);
  return og.alerts().find((a) => (type === "tiny" ? a.tinyId : a.id) === identifier);
}

/** A successful Opsgenie write in one line. */
function describeOpsgenieCall(og: OpsgenieDouble, r: RecordedRequest): string | undefined {
  const body = (r.body ?? {}) as Record<string, unknown>;
  if (r.method === "POST" && r.path === "/v2/alerts") {
    const alias = typeof body.alias === "string" ? body.alias : "";
    const created = og.alertByAlias(alias);
    const responders = Array.isArray(body.responders) ? body.responders as DoubleAlert["responders"] : [];
    const forRequest = alias.startsWith(`${ALIAS_PREFIX}/`)
      ? ` for request ${shortId(alias.slice(ALIAS_PREFIX.length + 1))}`
      : "";
    const to = responders.map((r) => `${r.type ?? "responder"} ${r.name ?? r.id ?? "?"}`).join(", ");
    return `alert #${created?.tinyId ?? "?"} "${body.message}" created for ${to}${forRequest}`;
  }
  const action = r.path.match(/^\/v2\/alerts\/([^/]+)\/(notes|close)$/);
  if (r.method === "POST" && action) {
    const alert = alertNamed(og, decodeURIComponent(action[1]), r.query.get("identifierType") ?? "id");
    const id = alert ? `#${alert.tinyId}` : decodeURIComponent(action[1]);
    return action[2] === "close"
      ? `alert ${id} closed`
      : `note on ${id}: ${describeNote(String(body.note ?? ""))}`;
  }
  return undefined;
}
