/**
 * latency: open loop at 50 requests/s for 60 s. For each request, the time from its
 * creation in the Teleport double to its `POST /incidents` reaching the PagerDuty
 * double (the double's recorded `at`, matched by incident key): p50/p95/p99.
 *
 * In the same run, twice a second, the bare floor: this process doing one
 * UpdatePluginData (TeleportClient) plus one POST /incidents (PagerDutyClient) round
 * trip itself. The ratio p99 / floor(p50) says how much the plugin adds on top of the
 * two unavoidable round trips (its extra plugin-data reads/writes, queueing, the watch).
 *
 * Everything (doubles, plugin, load generator) shares one process and its event loop.
 *   deno run -A bench/latency.ts [--smoke]
 */
import { PagerDutyClient } from "../src/backends/pagerduty/client.ts";
import { TeleportClient } from "../src/teleport/client.ts";
import { IncidentLog, sleep, startBenchWorld, waitUntil } from "./lib.ts";
import { isSmoke, percentile, Report, round } from "./report.ts";

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const report = new Report("latency", { smoke });
  const rate = smoke ? 20 : 50;
  const durationS = smoke ? 2 : 60;
  const floorEveryMs = 500;

  await using bench = await startBenchWorld();
  const { world } = bench;
  const pd = world.pagerduty;
  const floorService = pd.addService({ name: "Bench Floor" });
  await world.startPlugin();
  const log = new IncidentLog(pd);
  const teleport = TeleportClient.connect(world.config.teleport);
  using pagerduty = new PagerDutyClient(world.config.pagerduty);

  const floorOnce = async (): Promise<number> => {
    // A request without annotations: the plugin reads its plugin data once and leaves it.
    const id = world.teleport.createRequest({ user: "floor@example.com", roles: ["editor"] });
    const t0 = performance.now();
    await teleport.updatePluginData(id, "bench-floor", { k: "v" }, {});
    await pagerduty.createIncident({
      serviceId: floorService.id,
      requestId: id,
      title: "floor",
      details: "floor",
    });
    return performance.now() - t0;
  };

  try {
    // Warm-up: connections, JIT, the notify-service lookup.
    for (let i = 0; i < 5; i++) await floorOnce();
    const warm = bench.notifyRequest();
    await waitUntil("warm-up incident", () => log.update().has(warm), 30_000);

    const total = rate * durationS;
    const periodMs = 1000 / rate;
    const created = new Map<string, number>();
    const floors: number[] = [];
    let maxLagMs = 0;
    let stop = false;
    const floorLoop = (async () => {
      while (!stop) {
        floors.push(await floorOnce());
        await sleep(floorEveryMs);
      }
    })();

    report.progress(`open loop: ${rate}/s for ${durationS} s (${total} requests)`);
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + i * periodMs;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - due);
      const id = bench.notifyRequest();
      created.set(id, now);
    }
    const sendS = (performance.now() - start) / 1000;
    stop = true;
    await floorLoop;
    report.progress("waiting for the last incidents");
    const ids = [...created.keys()];
    await waitUntil("all incidents", () => ids.every((id) => log.update().has(id)), 120_000, 100);

    const latencies = ids.map((id) => log.postedAt(id)! - created.get(id)!);
    const floorP50 = percentile(floors, 50);
    const figures = {
      rate_per_s: rate,
      duration_s: durationS,
      requests: total,
      achieved_rate_per_s: round(total / sendS, 1),
      max_send_lag_ms: round(maxLagMs, 1),
      p50_ms: round(percentile(latencies, 50)),
      p95_ms: round(percentile(latencies, 95)),
      p99_ms: round(percentile(latencies, 99)),
      max_ms: round(Math.max(...latencies)),
      floor_samples: floors.length,
      floor_p50_ms: round(floorP50),
      floor_p99_ms: round(percentile(floors, 99)),
      p99_over_floor: round(percentile(latencies, 99) / floorP50, 1),
    };
    report.table(
      `Request created → POST /incidents at the double (${total} requests, ${rate}/s open loop)`,
      ["", "p50 ms", "p95 ms", "p99 ms", "max ms"],
      [
        ["plugin", figures.p50_ms, figures.p95_ms, figures.p99_ms, figures.max_ms],
        [
          `floor (n=${floors.length})`,
          floorP50,
          round(percentile(floors, 95)),
          figures.floor_p99_ms,
          round(Math.max(...floors)),
        ],
      ],
    );
    report.note(
      `p99 / floor p50 = ${figures.p99_over_floor}; achieved ${figures.achieved_rate_per_s}/s, ` +
        `max send lag ${figures.max_send_lag_ms} ms. Floor = 1 UpdatePluginData + 1 POST /incidents by the bench.`,
    );
    report.finish(figures);
    return figures;
  } finally {
    teleport.close();
  }
}

if (import.meta.main) await main();
