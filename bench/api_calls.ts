/**
 * api-calls: how many PagerDuty calls and Teleport RPCs one access request costs.
 *
 *   1. 1,000 notify-only requests after a warm-up request (service lookup cached):
 *      PagerDuty calls per request (target 1.00: the POST /incidents) and Teleport RPCs.
 *   2. 100 auto-approval requests, each by a different on-call requester: the lookup
 *      (user, on-call), the approval, then the resolution note and resolve.
 *
 * The plugin runs in process (runPlugin) against both doubles.
 *   deno run -A bench/api_calls.ts [--smoke]
 */
import type { AccessRequestPlugin } from "../src/core/plugin.ts";
import type { World } from "../src/doubles/world.ts";
import {
  APPROVAL_ANNOTATION,
  diffCounts,
  IncidentLog,
  NOTIFY_ANNOTATION,
  NOTIFY_SERVICE,
  pdCallsByEndpoint,
  startBenchWorld,
  sum,
  waitUntil,
} from "./lib.ts";
import { isSmoke, Report, round } from "./report.ts";

/** No work queued and no lease held on any of `ids`. */
export function settled(world: World, plugin: AccessRequestPlugin, ids: string[]): boolean {
  if (plugin.backlog !== 0) return false;
  return ids.every((id) => !world.teleport.pluginData(id, "pagerduty")?.lease);
}

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const report = new Report("api-calls", { smoke });
  const notifyCount = smoke ? 20 : 1_000;
  const approvalCount = smoke ? 5 : 100;
  const timeoutMs = smoke ? 20_000 : 300_000;

  await using bench = await startBenchWorld();
  const { world } = bench;
  const pd = world.pagerduty;
  const teleport = world.teleport;
  const policy = "EP-approvers";
  pd.addService({ name: "Approvers", escalationPolicyId: policy });
  const onCallUser = (email: string) => {
    const user = pd.addUser({ name: email.split("@")[0], email });
    pd.addOnCall({ userId: user.id, escalationPolicyId: policy });
  };
  const running = await world.startPlugin();
  const plugin = running.plugin;
  const log = new IncidentLog(pd);

  // ---- 1. notify-only --------------------------------------------------------------
  report.progress("warm-up");
  const warm = bench.notifyRequest();
  await waitUntil("warm-up incident", () => log.update().has(warm), timeoutMs);
  await waitUntil("warm-up settled", () => settled(world, plugin, [warm]), timeoutMs);

  const pdFrom = pd.requests.length;
  const rpcBefore = { ...teleport.calls };
  const started = performance.now();
  report.progress(`creating ${notifyCount} notify-only requests`);
  const ids = Array.from({ length: notifyCount }, () => bench.notifyRequest());
  await waitUntil(`${notifyCount} incidents`, () => ids.every((id) => log.update().has(id)), timeoutMs, 100);
  await waitUntil("settled", () => settled(world, plugin, ids), timeoutMs, 100);
  const notifyWallS = (performance.now() - started) / 1000;
  const notifyPd = pdCallsByEndpoint(pd, pdFrom);
  const notifyRpc = diffCounts(teleport.calls, rpcBefore);
  const duplicates = ids.filter((id) => (log.created.get(`teleport-access-request/${id}`) ?? 0) > 1).length;

  // ---- 2. auto-approval ------------------------------------------------------------
  report.progress("auto-approval warm-up");
  const approvalRequest = (user: string) =>
    teleport.createRequest({
      user,
      roles: ["editor"],
      reason: "bench",
      systemAnnotations: { [NOTIFY_ANNOTATION]: [NOTIFY_SERVICE], [APPROVAL_ANNOTATION]: ["Approvers"] },
    });
  const resolvedAndApproved = (id: string) =>
    teleport.getRequest(id)?.state === "APPROVED" &&
    teleport.pluginData(id, "pagerduty")?.resolution === "approved";
  onCallUser("warm-approver@example.com");
  const warmApproval = approvalRequest("warm-approver@example.com");
  await waitUntil("warm-up approval", () => resolvedAndApproved(warmApproval), timeoutMs);
  await waitUntil("warm-up settled", () => settled(world, plugin, [warmApproval]), timeoutMs);

  const users = Array.from({ length: approvalCount }, (_, i) => `oncall-${i}@example.com`);
  users.forEach(onCallUser);
  const pdFrom2 = pd.requests.length;
  const rpcBefore2 = { ...teleport.calls };
  report.progress(`creating ${approvalCount} auto-approval requests`);
  const approvals = users.map(approvalRequest);
  await waitUntil("approvals", () => approvals.every(resolvedAndApproved), timeoutMs, 100);
  await waitUntil("settled", () => settled(world, plugin, approvals), timeoutMs, 100);
  const approvalPd = pdCallsByEndpoint(pd, pdFrom2);
  const approvalRpc = diffCounts(teleport.calls, rpcBefore2);
  const approved =
    approvals.filter((id) =>
      world.teleport.getRequest(id)?.reviews.filter((r) => r.author === "plugin").length === 1
    ).length;

  // ---- report ------------------------------------------------------------------------
  const per = (n: number, of: number) => round(n / of, 2);
  const endpoints = [...new Set([...Object.keys(notifyPd), ...Object.keys(approvalPd)])].sort();
  report.table(
    "PagerDuty calls per request (after warm-up)",
    ["endpoint", `notify-only (n=${notifyCount})`, `auto-approval (n=${approvalCount})`],
    [
      ...endpoints.map((
        e,
      ) => [e, per(notifyPd[e] ?? 0, notifyCount), per(approvalPd[e] ?? 0, approvalCount)]),
      [
        "total",
        per(sum(Object.values(notifyPd)), notifyCount),
        per(sum(Object.values(approvalPd)), approvalCount),
      ],
    ],
  );
  const rpcs = [...new Set([...Object.keys(notifyRpc), ...Object.keys(approvalRpc)])].sort();
  report.table(
    "Teleport RPCs per request",
    ["RPC", "notify-only", "auto-approval"],
    [
      ...rpcs.map((m) => [m, per(notifyRpc[m] ?? 0, notifyCount), per(approvalRpc[m] ?? 0, approvalCount)]),
      [
        "total",
        per(sum(Object.values(notifyRpc)), notifyCount),
        per(sum(Object.values(approvalRpc)), approvalCount),
      ],
    ],
  );
  report.note(
    `notify-only: ${notifyCount} incidents in ${notifyWallS.toFixed(1)} s, ${duplicates} duplicated; ` +
      `auto-approval: ${approved}/${approvalCount} approved exactly once by the plugin.`,
  );
  const figures = {
    notify_requests: notifyCount,
    notify_pd_calls_per_request: per(sum(Object.values(notifyPd)), notifyCount),
    notify_pd_calls: notifyPd,
    notify_teleport_rpcs_per_request: per(sum(Object.values(notifyRpc)), notifyCount),
    notify_teleport_rpcs: notifyRpc,
    notify_duplicate_incidents: duplicates,
    approval_requests: approvalCount,
    approval_pd_calls_per_request: per(sum(Object.values(approvalPd)), approvalCount),
    approval_pd_calls: approvalPd,
    approval_teleport_rpcs_per_request: per(sum(Object.values(approvalRpc)), approvalCount),
    approval_teleport_rpcs: approvalRpc,
    approved_once: approved,
  };
  report.finish(figures);
  return figures;
}

if (import.meta.main) await main();
