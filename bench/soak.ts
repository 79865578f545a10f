/**
 * Soak: a steady stream of access requests for a long time, one fault a minute, and the
 * plugin's memory sampled throughout. Two plugin processes (the release command line)
 * share the work; plugin-0 is never killed, so its RSS series covers the whole run.
 *
 * Faults rotate: a graceful Teleport restart (GOAWAY), a watch-stream drop, a SIGKILL of
 * plugin-1 (restarted 1 s later, as systemd would), a PagerDuty 503 burst (10 s).
 * A fifth of the requests is denied by an admin after its incident exists, so resolution
 * notes and resolves run too. Printed: RSS samples, RSS growth after warm-up (the median
 * of the last fifth of the run against the median of the first fifth after warm-up),
 * incidents lost / duplicated, resolutions lost, processes that died on their own.
 *
 *   deno run -A bench/soak.ts [--smoke] [--minutes 30] [--rate 5] [--fault-every 60] [--warmup-minutes 5]
 */
import { parseArgs } from "node:util";
import { incidentKey } from "../src/backends/pagerduty/client.ts";
import { IncidentLog, sleep, startBenchWorld, writeProcessConfig } from "./lib.ts";
import { isSmoke, Report, round } from "./report.ts";
import { Fleet } from "./fleet.ts";

const FAULTS = ["teleport-restart", "watch-drop", "sigkill", "pagerduty-503"] as const;
type Fault = typeof FAULTS[number];
const DENY_EVERY = 5;
const DRAIN_TIMEOUT_S = 120;

interface Plan {
  durationS: number;
  rate: number;
  faultEveryS: number;
  warmupS: number;
  sampleEveryS: number;
  outageS: number;
}

function planFromArgs(smoke: boolean): Plan {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      smoke: { type: "boolean" },
      minutes: { type: "string" },
      rate: { type: "string" },
      "fault-every": { type: "string" },
      "warmup-minutes": { type: "string" },
    },
  });
  const durationS = values.minutes ? Number(values.minutes) * 60 : smoke ? 12 : 30 * 60;
  return {
    durationS,
    rate: Number(values.rate ?? 5),
    faultEveryS: Number(values["fault-every"] ?? (smoke ? 2.5 : 60)),
    warmupS: values["warmup-minutes"]
      ? Number(values["warmup-minutes"]) * 60
      : smoke
      ? 4
      : Math.min(300, durationS / 3),
    sampleEveryS: smoke ? 1 : Math.max(5, Math.min(30, durationS / 60)),
    outageS: smoke ? 1 : 10,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
}

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const plan = planFromArgs(smoke);
  const report = new Report("soak", { smoke });
  report.note(
    `${plan.durationS / 60} min at ${plan.rate} requests/s, one fault every ${plan.faultEveryS} s ` +
      `(${FAULTS.join(", ")}), warm-up ${plan.warmupS} s`,
  );
  const ownLogDir = !Deno.env.get("BENCH_LOG_DIR");
  const logDir = Deno.env.get("BENCH_LOG_DIR") ?? await Deno.makeTempDir({ prefix: "bench-soak-logs-" });
  await Deno.mkdir(logDir, { recursive: true });
  // Smoke runs (the test suite) leave nothing behind; full runs keep the plugin logs.
  await using _logs = {
    [Symbol.asyncDispose]: () =>
      smoke && ownLogDir ? Deno.remove(logDir, { recursive: true }) : Promise.resolve(),
  };
  await using bench = await startBenchWorld();
  const { world } = bench;
  const config = await writeProcessConfig(world, "soak", { rateLimitPerMinute: 60_000, severity: "INFO" });

  // ---- two plugin processes; plugin-1 is the one killed and restarted ----------------------
  const fleet = new Fleet(config, logDir, report);
  fleet.spawn(0);
  fleet.spawn(1);
  await fleet.ready();
  report.progress(`2 plugin processes ready; logs in ${logDir}`);

  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  const samples: { atS: number; rssMiB: number }[] = [];
  const ids: string[] = [];
  const denied = new Set<string>();
  const log = new IncidentLog(world.pagerduty);
  const faultCounts: Record<Fault, number> = {
    "teleport-restart": 0,
    "watch-drop": 0,
    sigkill: 0,
    "pagerduty-503": 0,
  };

  const createLoop = (async () => {
    for (let i = 0; elapsedS() < plan.durationS; i++) {
      const wait = (i * 1000) / plan.rate - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      ids.push(bench.notifyRequest({ user: `soak-${i}@example.com` }));
    }
  })();
  const denyLoop = (async () => {
    for (let next = 0; elapsedS() < plan.durationS || next < ids.length;) {
      log.update();
      while (next < ids.length && log.has(ids[next])) {
        if (next % DENY_EVERY === 0) {
          world.teleport.setState(ids[next], "DENIED", "soak deny");
          denied.add(ids[next]);
        }
        next++;
      }
      if (elapsedS() > plan.durationS + DRAIN_TIMEOUT_S) break;
      await sleep(200);
    }
  })();
  const faultLoop = (async () => {
    for (let n = 1; n * plan.faultEveryS < plan.durationS; n++) {
      await sleep(n * plan.faultEveryS * 1000 - (performance.now() - t0));
      const fault = FAULTS[(n - 1) % FAULTS.length];
      faultCounts[fault]++;
      const rss = samples.at(-1)?.rssMiB;
      report.progress(`${fault}; ${ids.length} requests so far; plugin-0 RSS ${rss ?? "?"} MiB`);
      if (fault === "teleport-restart") await world.teleport.restart({ graceful: true });
      else if (fault === "watch-drop") world.teleport.dropStreams();
      else if (fault === "pagerduty-503") world.pagerduty.inject5xx({ forMs: plan.outageS * 1000 }, 503);
      else {
        await fleet.procs[1].kill();
        await sleep(1_000);
        fleet.spawn(1);
      }
    }
  })();
  const sampleLoop = (async () => {
    while (elapsedS() < plan.durationS) {
      const m = await fleet.procs[0].memory();
      if (m) samples.push({ atS: round(elapsedS(), 1), rssMiB: round(m.rssMiB, 1) });
      await sleep(plan.sampleEveryS * 1000);
    }
  })();

  await Promise.all([createLoop, faultLoop, sampleLoop]);
  report.progress(`${ids.length} requests created; draining`);
  const check = () => {
    const byKey = Map.groupBy(world.pagerduty.incidents(), (i) => i.incidentKey ?? "");
    const r = { incidents_lost: 0, incidents_duplicated: 0, resolutions_lost: 0 };
    for (const id of ids) {
      const incidents = byKey.get(incidentKey(id)) ?? [];
      if (incidents.length === 0) r.incidents_lost++;
      r.incidents_duplicated += Math.max(0, incidents.length - 1);
      if (denied.has(id) && !incidents.some((i) => i.status === "resolved")) r.resolutions_lost++;
    }
    return r;
  };
  let final = check();
  const drainStart = elapsedS();
  while (elapsedS() - drainStart < DRAIN_TIMEOUT_S) {
    await sleep(500);
    final = check();
    if (
      final.incidents_lost === 0 && final.resolutions_lost === 0 &&
      denied.size === Math.ceil(ids.length / DENY_EVERY)
    ) break;
  }
  fleet.stopSupervising();
  await denyLoop;
  final = check();
  const drainedS = round(elapsedS() - drainStart, 1);
  await fleet.kill();

  // RSS saws up and down with garbage collection: compare the medians of two windows (the first
  // after warm-up and the last), each a fifth of the measured time, rather than single samples.
  const windowS = Math.max(plan.sampleEveryS * 3, (plan.durationS - plan.warmupS) / 5);
  const inWindow = (from: number, to: number) => samples.filter((s) => s.atS >= from && s.atS <= to);
  const rssWarm = median(inWindow(plan.warmupS, plan.warmupS + windowS).map((s) => s.rssMiB));
  const rssEnd = median(inWindow(plan.durationS - windowS, plan.durationS).map((s) => s.rssMiB));
  const growthPct = round(((rssEnd - rssWarm) / rssWarm) * 100, 1);
  report.table(
    "RSS of plugin-0 (MiB), sampled",
    ["t (s)", "RSS"],
    samples.filter((_, i) =>
      i % Math.max(1, Math.floor(samples.length / 20)) === 0 || i === samples.length - 1
    )
      .map((s) => [s.atS, s.rssMiB]),
  );
  const figures = {
    duration_s: plan.durationS,
    rate_per_s: plan.rate,
    requests: ids.length,
    denied: denied.size,
    faults: faultCounts,
    incidents_lost: final.incidents_lost,
    incidents_duplicated: final.incidents_duplicated,
    resolutions_lost: final.resolutions_lost,
    drain_s: drainedS,
    rss_after_warmup_mib: rssWarm,
    rss_end_mib: rssEnd,
    rss_peak_mib: Math.max(...samples.map((s) => s.rssMiB)),
    rss_growth_after_warmup_pct: growthPct,
    rss_samples: samples.map((s) => [s.atS, s.rssMiB]),
    processes_spawned: fleet.spawned,
    processes_died_on_their_own: fleet.deaths.length,
    deaths: fleet.deaths.map((d) => `plugin-${d.slot}: ${d.exit}`),
    teleport_rpcs: { ...world.teleport.calls },
    log_dir: logDir,
  };
  report.table("Soak", ["figure", "value"], [
    ["requests (denied)", `${ids.length} (${denied.size})`],
    ["faults", Object.entries(faultCounts).map(([k, v]) => `${k} ${v}`).join(", ")],
    ["incidents lost / duplicated", `${final.incidents_lost} / ${final.incidents_duplicated}`],
    ["resolutions lost", final.resolutions_lost],
    ["RSS median after warm-up → at the end (MiB)", `${rssWarm} → ${rssEnd} (${growthPct}%)`],
    ["RSS peak (MiB)", figures.rss_peak_mib],
    ["plugin processes died on their own", `${fleet.deaths.length} of ${fleet.spawned}`],
  ]);
  report.finish(figures);
  return figures;
}

if (import.meta.main) await main();
