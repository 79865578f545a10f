/**
 * burst: (1) 5,000 requests created at once against an unthrottled PagerDuty double:
 * incidents per second and time to drain (every incident created, no work queued,
 * no lease held). (2) 1,000 requests against a double enforcing 100 requests per
 * 1 s window (6,000/min, 429 past it) with the plugin's client-side limit set to
 * 6,000/min: time to drain versus the rate-limit floor, and the 429s received.
 *
 * The plugin runs in process (runPlugin) against both doubles.
 *   deno run -A bench/burst.ts [--smoke] [--rate-limited-only]
 */
import type { RunningPlugin } from "../src/doubles/world.ts";
import type { BenchWorld } from "./lib.ts";
import { IncidentLog, startBenchWorld, waitUntil } from "./lib.ts";
import { isSmoke, percentile, Report, round } from "./report.ts";

interface DrainResult {
  requests: number;
  drainS: number;
  lastIncidentS: number;
  incidentsPerS: number;
  duplicates: number;
  p50IncidentS: number;
  status429: number;
  pdCalls: number;
  /** When the first PagerDuty call of the burst arrived (Teleport-side work before it). */
  firstCallS: number;
}

async function burst(
  bench: BenchWorld,
  running: RunningPlugin,
  count: number,
  timeoutMs: number,
  report: Report,
): Promise<DrainResult> {
  const { world } = bench;
  const pd = world.pagerduty;
  const log = new IncidentLog(pd).update();
  const pdFrom = pd.requests.length;
  report.progress(`creating ${count} requests at once`);
  const t0 = performance.now();
  const ids = Array.from({ length: count }, () => bench.notifyRequest());
  await waitUntil(`${count} incidents`, () => ids.every((id) => log.update().has(id)), timeoutMs, 100);
  await waitUntil(
    "drained",
    () =>
      running.plugin.backlog === 0 && ids.every((id) => !world.teleport.pluginData(id, "pagerduty")?.lease),
    timeoutMs,
    100,
  );
  const drainS = (performance.now() - t0) / 1000;
  const created = pd.requests.slice(pdFrom).filter((r) =>
    r.method === "POST" && r.path === "/incidents" && r.status === 201
  );
  const lastIncidentS = (Math.max(...created.map((r) => r.at)) - t0) / 1000;
  return {
    requests: count,
    drainS: round(drainS),
    lastIncidentS: round(lastIncidentS),
    incidentsPerS: round(count / lastIncidentS, 1),
    duplicates: created.length - count,
    p50IncidentS: round((percentile(created.map((r) => r.at), 50) - t0) / 1000),
    status429: pd.requests.slice(pdFrom).filter((r) => r.status === 429).length,
    pdCalls: pd.requests.length - pdFrom,
    firstCallS: round((Math.min(...pd.requests.slice(pdFrom).map((r) => r.at)) - t0) / 1000),
  };
}

const USAGE = `deno run -A bench/burst.ts [--smoke] [--rate-limited-only]
  (1) 5,000 requests at once against an unthrottled PagerDuty double;
  (2) 1,000 requests against a 6,000/min server limit with the client at 6,000/min: drain vs the 10 s floor.
  --smoke              toy sizes (the test suite)
  --rate-limited-only  run (2) only`;

export async function main(
  smoke = isSmoke(),
  rateLimitedOnly = Deno.args.includes("--rate-limited-only"),
): Promise<Record<string, unknown>> {
  const report = new Report("burst", { smoke });
  const bigBurst = smoke ? 200 : 5_000;
  const limitedBurst = smoke ? 150 : 1_000;
  const perMinute = smoke ? 3_000 : 6_000;
  const timeoutMs = smoke ? 30_000 : 600_000;

  // ---- 1. unthrottled ----------------------------------------------------------------
  let open: DrainResult | undefined;
  if (!rateLimitedOnly) {
    await using bench = await startBenchWorld();
    const running = await bench.world.startPlugin();
    const log = new IncidentLog(bench.world.pagerduty);
    const warm = bench.notifyRequest();
    await waitUntil("warm-up", () => log.update().has(warm), 30_000);
    open = await burst(bench, running, bigBurst, timeoutMs, report);
  }

  // ---- 2. against a server-side rate limit -------------------------------------------
  let limited: DrainResult;
  const perSecond = perMinute / 60;
  {
    await using bench = await startBenchWorld();
    bench.world.config.pagerduty.rateLimitPerMinute = perMinute;
    const running = await bench.world.startPlugin();
    const log = new IncidentLog(bench.world.pagerduty);
    const warm = bench.notifyRequest();
    await waitUntil("warm-up", () => log.update().has(warm), 30_000);
    bench.world.pagerduty.setServerRateLimit({ limit: perSecond, windowMs: 1_000 });
    limited = await burst(bench, running, limitedBurst, timeoutMs, report);
  }
  const floorS = limitedBurst / perSecond;

  report.table(
    "Bursts of pending requests",
    ["burst", "requests", "incidents/s", "last incident s", "drain s", "dup", "PD calls", "429s"],
    [
      ...(open
        ? [[
          "unthrottled",
          open.requests,
          open.incidentsPerS,
          open.lastIncidentS,
          open.drainS,
          open.duplicates,
          open.pdCalls,
          open.status429,
        ]]
        : []),
      [
        `${perMinute}/min server + client`,
        limited.requests,
        limited.incidentsPerS,
        limited.lastIncidentS,
        limited.drainS,
        limited.duplicates,
        limited.pdCalls,
        limited.status429,
      ],
    ],
  );
  report.note(
    `rate-limited: drain ${limited.drainS} s vs floor ${round(floorS, 1)} s ` +
      `(${limitedBurst} calls at ${perSecond}/s; the server counts 1 s windows from the first call after ` +
      `the last one ended and answers 429 with ratelimit-reset in whole seconds; the client paces with a ` +
      `token bucket of ${perSecond} + ${perSecond}/s and pauses all its calls until the reset once the server ` +
      `says nothing is left: ratelimit-remaining 0 or a 429) = ` +
      `${round(limited.drainS / floorS, 2)}× the floor, ${limited.status429} responses 429; the first ` +
      `PagerDuty call came ${limited.firstCallS} s after the burst was created.`,
  );
  const figures = {
    unthrottled: open,
    rate_limited: {
      ...limited,
      limit_per_minute: perMinute,
      floor_s: round(floorS, 2),
      drain_over_floor: round(limited.drainS / floorS, 2),
    },
  };
  report.finish(figures);
  return figures;
}

if (import.meta.main) {
  if (Deno.args.includes("--help")) console.log(USAGE);
  else await main();
}
