/**
 * opsgenie: what teleport-opsgenie costs and survives, on Opsgenie's API and on JSM
 * Operations' (the plugin runs in process, runOpsgenie, against the doubles).
 *
 *   1. api-calls: notify-only requests after a warm-up; alert API calls per request by
 *      endpoint (target ≤ 2: the create and one request-status read) and Teleport RPCs;
 *      then auto-approval requests (on-call lookup, approval, resolution note, close).
 *   2. storm: three instances, a burst of requests while the API answers 429s
 *      (`Retry-After`) and then 503s for a while, and one instance stopped mid-burst;
 *      then each request is approved. Counts alerts lost and duplicated, notes lost or
 *      duplicated, alerts left open (target 0 everywhere), contract violations, and the
 *      creates repeated after an interrupted pass that the API folded by alias.
 *
 *   deno run -A bench/opsgenie.ts [--smoke]
 */
import type { AccessRequestPlugin } from "../src/core/plugin.ts";
import { type AlertApi, type OpsgenieWorld, startOpsgenieWorld } from "../src/doubles/opsgenie_world.ts";
import { PLUGIN_USER } from "../src/doubles/world.ts";
import { diffCounts, REVIEWER, sum, waitUntil } from "./lib.ts";
import { isSmoke, Report, round } from "./report.ts";

const NOTIFY = "teleport.dev/notify-services";
const APPROVE = "teleport.dev/schedules";

/** No work queued and no lease held on any of `ids`. */
function settled(world: OpsgenieWorld, plugins: AccessRequestPlugin[], ids: string[]): boolean {
  if (plugins.some((p) => p.backlog !== 0)) return false;
  return ids.every((id) => !world.teleport.pluginData(id, "opsgenie")?.lease);
}

/** Calls by endpoint since request number `from`, ids and the JSM cloud id folded. */
function callsByEndpoint(world: OpsgenieWorld, from: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of world.alerts.requests.slice(from)) {
    const path = r.path
      .replace(/^\/jsm\/ops\/api\/[^/]+\/v1/, "")
      .replace(/^\/ex\/jira\/[^/]+\/rest\/api\/3/, "jira ")
      .replace(/^\/v2/, "")
      .replace(/\/alerts\/requests\/[^/]+/, "/alerts/requests/:id")
      .replace(/\/alerts\/(?!requests|alias)[^/]+/, "/alerts/:id")
      .replace(/\/schedules\/[^/]+/, "/schedules/:id");
    const key = `${r.method} ${path}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

async function apiCalls(api: AlertApi, smoke: boolean, report: Report) {
  const notifyCount = smoke ? 20 : 1_000;
  const approvalCount = smoke ? 5 : 100;
  const timeoutMs = smoke ? 20_000 : 300_000;
  await using world = await startOpsgenieWorld(api);
  const schedule = world.addSchedule("Teleport Notifications");
  for (const reviewer of [PLUGIN_USER, REVIEWER]) world.teleport.setReviewer(reviewer, ["*"]);
  const users = Array.from({ length: approvalCount + 1 }, (_, i) => `oncall-${i}@example.com`);
  const approvers = world.addSchedule("Approvers", users);
  const { plugin } = await world.startPlugin();
  const notifyRequest = () =>
    world.teleport.createRequest({
      user: "requester@example.com",
      roles: ["editor"],
      reason: "bench",
      systemAnnotations: { [NOTIFY]: [schedule] },
    });
  const alertOf = (id: string) => world.alerts.alertByAlias(`teleport-access-request/${id}`);

  report.progress(`${api}: warm-up`);
  const warm = notifyRequest();
  await waitUntil("warm-up alert", () => !!alertOf(warm), timeoutMs);
  await waitUntil("warm-up settled", () => settled(world, [plugin], [warm]), timeoutMs);
  let from = world.alerts.requests.length;
  let rpcBefore = { ...world.teleport.calls };
  report.progress(`${api}: ${notifyCount} notify-only requests`);
  const ids = Array.from({ length: notifyCount }, notifyRequest);
  await waitUntil(
    "alerts",
    () => ids.every((id) => world.teleport.pluginData(id, "opsgenie")?.alert_id),
    timeoutMs,
    100,
  );
  await waitUntil("settled", () => settled(world, [plugin], ids), timeoutMs, 100);
  const notifyCalls = callsByEndpoint(world, from);
  const notifyRpc = diffCounts(world.teleport.calls, rpcBefore);
  const duplicates = ids.filter((id) => (alertOf(id)?.count ?? 0) > 1).length +
    world.alerts.alerts().length - notifyCount - 1;

  report.progress(`${api}: ${approvalCount} auto-approval requests`);
  from = world.alerts.requests.length;
  rpcBefore = { ...world.teleport.calls };
  const approvals = users.slice(1).map((user) =>
    world.teleport.createRequest({
      user,
      roles: ["editor"],
      reason: "bench",
      systemAnnotations: { [NOTIFY]: [schedule], [APPROVE]: [approvers] },
    })
  );
  const done = (id: string) =>
    world.teleport.getRequest(id)?.state === "APPROVED" && alertOf(id)?.status === "closed";
  await waitUntil("approvals", () => approvals.every(done), timeoutMs, 100);
  await waitUntil("settled", () => settled(world, [plugin], approvals), timeoutMs, 100);
  const approvalCalls = callsByEndpoint(world, from);
  const approvalRpc = diffCounts(world.teleport.calls, rpcBefore);
  const approvedOnce =
    approvals.filter((id) =>
      world.teleport.getRequest(id)?.reviews.filter((r) => r.author === PLUGIN_USER).length === 1
    ).length;

  const per = (n: number, of: number) => round(n / of, 2);
  const endpoints = [...new Set([...Object.keys(notifyCalls), ...Object.keys(approvalCalls)])].sort();
  report.table(
    `${api}: alert API calls per request (after warm-up)`,
    ["endpoint", `notify-only (n=${notifyCount})`, `auto-approval (n=${approvalCount})`],
    [
      ...endpoints.map((
        e,
      ) => [e, per(notifyCalls[e] ?? 0, notifyCount), per(approvalCalls[e] ?? 0, approvalCount)]),
      [
        "total",
        per(sum(Object.values(notifyCalls)), notifyCount),
        per(sum(Object.values(approvalCalls)), approvalCount),
      ],
      [
        "Teleport RPCs",
        per(sum(Object.values(notifyRpc)), notifyCount),
        per(sum(Object.values(approvalRpc)), approvalCount),
      ],
    ],
  );
  return {
    [`${api}_notify_calls_per_request`]: per(sum(Object.values(notifyCalls)), notifyCount),
    [`${api}_notify_calls`]: notifyCalls,
    [`${api}_notify_teleport_rpcs_per_request`]: per(sum(Object.values(notifyRpc)), notifyCount),
    [`${api}_notify_duplicate_alerts`]: duplicates,
    [`${api}_approval_calls_per_request`]: per(sum(Object.values(approvalCalls)), approvalCount),
    [`${api}_approval_calls`]: approvalCalls,
    [`${api}_approved_once`]: approvedOnce,
    [`${api}_violations`]: world.alerts.violations.length,
  };
}

async function storm(api: AlertApi, smoke: boolean, report: Report) {
  const count = smoke ? 30 : 600;
  const timeoutMs = smoke ? 30_000 : 300_000;
  await using world = await startOpsgenieWorld(api);
  const schedule = world.addSchedule("Teleport Notifications");
  for (const reviewer of [PLUGIN_USER, REVIEWER]) world.teleport.setReviewer(reviewer, ["*"]);
  const instances = [await world.startPlugin(), await world.startPlugin(), await world.startPlugin()];
  report.progress(`${api}: storm with ${count} requests`);
  world.alerts.inject429({ everyNth: 3, forMs: smoke ? 1_000 : 10_000 }, { retryAfterSeconds: 0 });
  const ids = Array.from({ length: count }, () =>
    world.teleport.createRequest({
      user: "requester@example.com",
      roles: ["editor"],
      reason: "storm",
      systemAnnotations: { [NOTIFY]: [schedule] },
    }));
  // One instance stops mid-burst; a 503 outage follows.
  await instances[0].stop();
  world.alerts.inject5xx({ forMs: smoke ? 1_000 : 10_000 }, 503);
  const alertOf = (id: string) => world.alerts.alertByAlias(`teleport-access-request/${id}`);
  await waitUntil("alerts", () => ids.every((id) => alertOf(id)), timeoutMs, 100);
  for (const id of ids) world.teleport.review(REVIEWER, id, "APPROVED", "okay");
  const plugins = instances.slice(1).map((i) => i.plugin);
  await waitUntil("closed", () => ids.every((id) => alertOf(id)?.status === "closed"), timeoutMs, 100);
  await waitUntil("settled", () => settled(world, plugins, ids), timeoutMs, 100);
  const alerts = world.alerts.alerts();
  const byAlias = Map.groupBy(alerts, (a) => a.alias);
  const lost = ids.filter((id) => !byAlias.has(`teleport-access-request/${id}`)).length;
  const duplicated =
    ids.filter((id) => (byAlias.get(`teleport-access-request/${id}`) ?? []).length > 1).length;
  // A create repeated after an interrupted pass, folded by the API into the open alert (same alias).
  const folded = alerts.filter((a) => a.count > 1).length;
  const expectedNotes = (id: string) =>
    [
      /^reviewer1@example\.com reviewed the request/,
      /^Access request has been approved\nReason: okay$/,
    ].every((re, i) => re.test(alertOf(id)?.notes[i]?.note ?? "")) && alertOf(id)?.notes.length === 2;
  const badNotes = ids.filter((id) => !expectedNotes(id)).length;
  const faulted = world.alerts.requests.filter((r) => r.status === 429 || r.status === 503).length;
  report.note(
    `${api} storm: ${count} requests, 3 instances (one stopped mid-burst), ${faulted} answers 429/503: ` +
      `${lost} alerts lost, ${duplicated} duplicated (${folded} repeated creates folded by alias), ` +
      `${badNotes} with missing or extra notes, ` +
      `${
        alerts.filter((a) => a.status !== "closed").length
      } left open, ${world.alerts.violations.length} contract violations.`,
  );
  return {
    [`${api}_storm_requests`]: count,
    [`${api}_storm_faulted_answers`]: faulted,
    [`${api}_alerts_lost`]: lost,
    [`${api}_alerts_duplicated`]: duplicated,
    [`${api}_creates_folded_by_alias`]: folded,
    [`${api}_notes_wrong`]: badNotes,
    [`${api}_storm_violations`]: world.alerts.violations.length,
  };
}

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const report = new Report("opsgenie", { smoke });
  const figures: Record<string, unknown> = {};
  for (const api of ["opsgenie", "jsm"] as const) {
    Object.assign(figures, await apiCalls(api, smoke, report));
    Object.assign(figures, await storm(api, smoke, report));
  }
  report.finish(figures);
  return figures;
}

if (import.meta.main) await main();
