/**
 * Fault run: 1,000 requests handled by 3 plugin processes (the release command line of
 * teleport-pagerduty, or of teleport-opsgenie with `--backend opsgenie`) while a script
 * injects 20 graceful Teleport restarts, 20 abrupt watch-stream drops, 10 SIGKILLs of a
 * plugin process (restarted 1 s later, as systemd would), a 60 s backend 503 outage and
 * 429 storms. A fraction of the requests is reviewed, approved, denied or deleted so that
 * notes and resolutions (PagerDuty) or closes (Opsgenie) are exercised.
 *
 * Prints incidents (alerts) lost / duplicated, notes lost / duplicated, resolutions
 * (closes) lost, the time to drain after the last fault, Teleport RPCs per request, and
 * the plugin processes that died on their own (134/139 = the Deno nghttp2 GOAWAY abort,
 * docs/deno-http2.md).
 *
 * The plugin's lease TTL is 60 s (the release default): work a killed instance held
 * waits for its lease to expire before a peer takes it over. That shows in the drain
 * time; it is not tuned away here.
 *
 *   deno run -A bench/faults.ts [--smoke] [--seed N] [--backend pagerduty|opsgenie]
 *   (plugin logs: BENCH_LOG_DIR or a temp dir)
 */
import { backendArg, startBackend } from "./backends.ts";
import { NOTIFY_SERVICE, REVIEWER, sleep, sum, waitUntil } from "./lib.ts";
import { isSmoke, Report, round } from "./report.ts";
import { Fleet } from "./fleet.ts";
import { prng } from "../tests/fakes/prng.ts";
import { DEFAULT_LEASE_TTL_MS } from "../src/core/plugin.ts";

type Action = "none" | "approve" | "review-only" | "deny" | "delete";

interface Plan {
  requests: number;
  createOverS: number;
  instances: number;
  gracefulRestarts: number;
  streamDrops: number;
  kills: number;
  faultWindowS: [number, number];
  outage: { atS: number; forS: number };
  storms: { atS: number; forS: number }[];
  /** Kills only before the first request (smoke: no lease waits). */
  killsUpFront: boolean;
  drainTimeoutS: number;
  /** How long to keep watching after the last kill: peers take a dead instance's requests over after its lease. */
  leaseTtlS: number;
}

const FULL: Plan = {
  requests: 1_000,
  createOverS: 120,
  instances: 3,
  gracefulRestarts: 20,
  streamDrops: 20,
  kills: 10,
  faultWindowS: [5, 130],
  outage: { atS: 40, forS: 60 },
  storms: [{ atS: 15, forS: 5 }, { atS: 105, forS: 5 }, { atS: 115, forS: 5 }, { atS: 125, forS: 5 }],
  killsUpFront: false,
  drainTimeoutS: 600,
  leaseTtlS: DEFAULT_LEASE_TTL_MS / 1000,
};

const SMOKE: Plan = {
  requests: 30,
  createOverS: 3,
  instances: 2,
  gracefulRestarts: 2,
  streamDrops: 2,
  kills: 1,
  faultWindowS: [1, 4],
  outage: { atS: 1.5, forS: 1.5 },
  storms: [{ atS: 3.5, forS: 0.5 }],
  killsUpFront: true,
  drainTimeoutS: 40,
  leaseTtlS: 0,
};

function actionFor(i: number): Action {
  const slot = i % 20;
  if (slot < 3) return "approve"; // 15%: one review, threshold 1 → review note + resolution
  if (slot < 5) return "review-only"; // 10%: one review of two needed → review note only
  if (slot < 7) return "deny"; // 10%: admin denial → resolution note
  if (slot < 9) return "delete"; // 10%: deleted (expiry) → "expired" note
  return "none";
}

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const plan = smoke ? SMOKE : FULL;
  const seedArg = Deno.args.indexOf("--seed");
  const seed = seedArg >= 0 ? Number(Deno.args[seedArg + 1]) : Date.now() % 1_000_000;
  const random = prng(seed);
  const report = new Report("faults", { smoke });
  await using backend = await startBackend(backendArg());
  report.note(`seed ${seed}; backend ${backend.name}`);
  const logDir = Deno.env.get("BENCH_LOG_DIR") ?? await Deno.makeTempDir({ prefix: "bench-faults-logs-" });
  await Deno.mkdir(logDir, { recursive: true });

  const { api, teleport, noun } = backend;
  const closing = backend.name === "pagerduty" ? "resolutions" : "closes";
  const config = await backend.writeConfig("faults", { rateLimitPerMinute: 60_000, severity: "INFO" });

  // ---- the fleet ------------------------------------------------------------------------
  const fleet = new Fleet(config, logDir, report, backend.command);
  const spawn = (slot: number) => fleet.spawn(slot);
  for (let slot = 0; slot < plan.instances; slot++) spawn(slot);
  await fleet.ready();
  report.progress(`${plan.instances} plugin processes ready; logs in ${logDir}`);

  const opened = (records: ReturnType<typeof backend.records>, id: string) =>
    (records.get(backend.keyOf(id))?.length ?? 0) > 0;
  const warm = backend.notifyRequest();
  await waitUntil(`warm-up ${noun}`, () => opened(backend.records(), warm), 30_000);

  // ---- the fault schedule ---------------------------------------------------------------
  type Fault = { atS: number; kind: "graceful" | "drop" | "kill" | "outage" | "storm"; forS?: number };
  const [from, to] = plan.faultWindowS;
  const spread = (n: number) =>
    Array.from({ length: n }, (_, i) => from + ((i + random()) * (to - from)) / n);
  const faults: Fault[] = [
    ...spread(plan.gracefulRestarts).map((atS) => ({ atS, kind: "graceful" as const })),
    ...spread(plan.streamDrops).map((atS) => ({ atS, kind: "drop" as const })),
    ...(plan.killsUpFront
      ? Array.from({ length: plan.kills }, () => ({ atS: 0, kind: "kill" as const }))
      : spread(plan.kills).map((atS) => ({ atS, kind: "kill" as const }))),
    { atS: plan.outage.atS, kind: "outage" as const, forS: plan.outage.forS },
    ...plan.storms.map((s) => ({ atS: s.atS, kind: "storm" as const, forS: s.forS })),
  ].sort((a, b) => a.atS - b.atS);
  const lastFaultS = Math.max(...faults.map((f) => f.atS + (f.forS ?? 0)));
  const counts = { graceful: 0, drop: 0, kill: 0, outage: 0, storm: 0 };
  let lastKillAt = 0;

  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;

  const faultLoop = (async () => {
    for (const fault of faults) {
      const wait = fault.atS * 1000 - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      counts[fault.kind]++;
      switch (fault.kind) {
        case "graceful":
          await teleport.restart({ graceful: true });
          break;
        case "drop":
          teleport.dropStreams();
          break;
        case "kill": {
          const slot = Math.floor(random() * plan.instances);
          const victim = fleet.procs[slot];
          await victim.kill();
          lastKillAt = performance.now();
          report.progress(`SIGKILL plugin-${slot} (pid ${victim.pid}); restarting in 1 s`);
          await sleep(1_000);
          const next = spawn(slot);
          if (plan.killsUpFront) await next.ready;
          break;
        }
        case "outage":
          report.progress(`${backend.name} 503 outage for ${fault.forS} s`);
          api.inject5xx({ forMs: fault.forS! * 1000 }, 503);
          break;
        case "storm":
          api.inject429({ forMs: fault.forS! * 1000 }, { retryAfterSeconds: 1 });
          break;
      }
    }
  })();
  if (plan.killsUpFront) {
    // Smoke: the kills happen before any request, so no lease is ever orphaned.
    while (counts.kill < plan.kills) await sleep(20);
    await fleet.ready();
  }

  // ---- requests and their reviews/resolutions --------------------------------------------
  const ids: string[] = [];
  const actions = new Map<string, Action>();
  const createdAt = new Map<string, number>();
  const toApply = new Set<string>();
  let creating = true;
  const createStart = performance.now();
  const createLoop = (async () => {
    for (let i = 0; i < plan.requests; i++) {
      const due = createStart + (i * plan.createOverS * 1000) / plan.requests;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const action = actionFor(i);
      const id = backend.notifyRequest({
        user: `requester-${i}@example.com`,
        thresholds: action === "review-only" ? { approve: 2, deny: 2 } : undefined,
      });
      ids.push(id);
      actions.set(id, action);
      createdAt.set(id, performance.now());
      if (action !== "none") toApply.add(id);
    }
    creating = false;
  })();
  const applyErrors: string[] = [];
  const applyLoop = (async () => {
    while (creating || toApply.size > 0) {
      const records = backend.records();
      for (const id of toApply) {
        if (!opened(records, id) || performance.now() - createdAt.get(id)! < 2_000) continue;
        toApply.delete(id);
        try {
          const action = actions.get(id)!;
          if (action === "approve") teleport.review(REVIEWER, id, "APPROVED", "bench approve");
          else if (action === "review-only") teleport.review(REVIEWER, id, "APPROVED", "bench first of two");
          else if (action === "deny") teleport.setState(id, "DENIED", "bench deny");
          else if (action === "delete") teleport.deleteRequest(id);
        } catch (error) {
          applyErrors.push(`${id}: ${error}`);
        }
      }
      if (performance.now() - t0 > (lastFaultS + plan.drainTimeoutS) * 1000) break;
      await sleep(200);
    }
  })();

  // ---- checking --------------------------------------------------------------------------
  const expectedNotes = (action: Action) => ({
    review: action === "approve" || action === "review-only" ? 1 : 0,
    resolution: action === "approve" || action === "deny" || action === "delete" ? 1 : 0,
  });
  const check = () => {
    const byKey = backend.records();
    const r = {
      incidents_lost: 0,
      incidents_duplicated: 0,
      notes_lost: 0,
      notes_duplicated: 0,
      resolutions_lost: 0,
      wrongly_resolved: 0,
      actions_pending: toApply.size,
    };
    for (const id of ids) {
      const action = actions.get(id)!;
      const incidents = byKey.get(backend.keyOf(id)) ?? [];
      if (incidents.length === 0) {
        r.incidents_lost++;
        continue;
      }
      r.incidents_duplicated += incidents.length - 1;
      const notes = incidents.flatMap((i) => i.notes);
      const want = expectedNotes(action);
      const applied = !toApply.has(id);
      const got = {
        review: notes.filter((n) => n.startsWith(`${REVIEWER} reviewed`)).length,
        resolution: notes.filter((n) => n.startsWith("Access request has been")).length,
      };
      for (const kind of ["review", "resolution"] as const) {
        const expected = applied ? want[kind] : 0;
        if (got[kind] < expected) r.notes_lost += expected - got[kind];
        if (got[kind] > want[kind]) r.notes_duplicated += got[kind] - want[kind];
      }
      const resolved = incidents.some((i) => i.closed);
      if (want.resolution && applied && !resolved) r.resolutions_lost++;
      if (!want.resolution && resolved) r.wrongly_resolved++;
    }
    return r;
  };
  const clean = (r: ReturnType<typeof check>) =>
    !creating && r.actions_pending === 0 && r.incidents_lost === 0 && r.notes_lost === 0 &&
    r.resolutions_lost === 0;

  await createLoop;
  report.progress(`${plan.requests} requests created at ${elapsedS().toFixed(0)} s`);
  await faultLoop;
  report.progress(`last fault injected; faults end at ${lastFaultS.toFixed(0)} s`);
  let drainedAtS: number | undefined;
  const deadlineS = lastFaultS + plan.drainTimeoutS;
  let last = check();
  let lastProgress = 0;
  while (elapsedS() < deadlineS) {
    last = check();
    if (clean(last)) {
      drainedAtS = elapsedS();
      break;
    }
    if (elapsedS() - lastProgress > 15) {
      lastProgress = elapsedS();
      report.progress(`waiting: ${JSON.stringify(last)}`);
    }
    await sleep(250);
  }
  // Keep watching past the lease TTL after the last kill: a takeover may still duplicate.
  const observeUntil = Math.max(
    performance.now() + (smoke ? 500 : 10_000),
    plan.killsUpFront ? 0 : lastKillAt + (plan.leaseTtlS + 15) * 1000,
  );
  if (drainedAtS !== undefined) {
    report.progress(
      `drained at ${drainedAtS.toFixed(0)} s; observing until ${((observeUntil - t0) / 1000).toFixed(0)} s`,
    );
    while (performance.now() < observeUntil) await sleep(500);
  }
  fleet.stopSupervising();
  await applyLoop;
  const final = check();
  await fleet.kill();
  const status429 = api.requests.filter((r) => r.status === 429).length;
  const status503 = api.requests.filter((r) => r.status === 503).length;
  // Every request of the run plus the warm-up one.
  const rpcsPerRequest = round(sum(Object.values(teleport.calls)) / (plan.requests + 1), 1);

  const figures = {
    seed,
    backend: backend.name,
    requests: plan.requests,
    instances: plan.instances,
    faults: counts,
    [`${noun}s_lost`]: final.incidents_lost,
    [`${noun}s_duplicated`]: final.incidents_duplicated,
    notes_lost: final.notes_lost,
    notes_duplicated: final.notes_duplicated,
    [`${closing}_lost`]: final.resolutions_lost,
    [`wrongly_${closing === "closes" ? "closed" : "resolved"}`]: final.wrongly_resolved,
    actions_not_applied: final.actions_pending,
    drained: drainedAtS !== undefined,
    last_fault_s: round(lastFaultS, 1),
    drain_after_last_fault_s: drainedAtS === undefined ? null : round(drainedAtS - lastFaultS, 1),
    processes_spawned: fleet.spawned,
    processes_died_on_their_own: fleet.deaths.length,
    deaths: fleet.deaths.map((d) => `plugin-${d.slot}: ${d.exit}`),
    api_429s: status429,
    api_503s: status503,
    api_calls: api.requests.length,
    api_violations: api.violations.length,
    ...backend.extraFigures(),
    teleport_rpcs: { ...teleport.calls },
    teleport_rpcs_per_request: rpcsPerRequest,
    apply_errors: applyErrors.length,
    log_dir: logDir,
  };
  report.table(
    `Fault run (${backend.name}): ${plan.requests} requests, ${plan.instances} plugin processes`,
    ["figure", "value"],
    [
      ["faults injected", Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")],
      [`${noun}s lost`, final.incidents_lost],
      [`${noun}s duplicated`, final.incidents_duplicated],
      ["notes lost", figures.notes_lost],
      ["notes duplicated", figures.notes_duplicated],
      [`${closing} lost`, final.resolutions_lost],
      [`${closing === "closes" ? "closed" : "resolved"} but should not be`, final.wrongly_resolved],
      ["drained", figures.drained],
      ["time to drain after the last fault (s)", figures.drain_after_last_fault_s],
      ["plugin processes died on their own", `${fleet.deaths.length} of ${fleet.spawned} spawned`],
      ["429 / 503 responses served", `${status429} / ${status503} (${api.requests.length} calls)`],
      ["contract violations", api.violations.length],
      ["Teleport RPCs per request", rpcsPerRequest],
    ],
  );
  if (fleet.deaths.length) report.note(`deaths: ${figures.deaths.join("; ")}`);
  if (applyErrors.length) {
    report.note(`review/resolve errors (${applyErrors.length}): ${applyErrors.slice(0, 3).join("; ")}`);
  }
  report.note(`notified: ${NOTIFY_SERVICE}; plugin logs: ${logDir}`);
  report.finish(figures);
  return figures;
}

if (import.meta.main) await main();
