/**
 * scrape: /metrics latency while a 5,000-request burst drains. The plugin runs in
 * process against both doubles (as in bench/burst.ts) with the diagnostics server on
 * 127.0.0.1; a separate process scrapes /metrics every 100 ms (as Prometheus would,
 * only 150× more often) from the moment the burst is created until it has drained.
 * The registry is pre-filled with more label sets than a real plugin produces, so the
 * exposition is at least as large as in production.
 *   deno run -A bench/scrape.ts [--smoke]
 */
import { type Operations, startOperations } from "../src/ops/operations.ts";
import { IdentityExpiry } from "../src/ops/diag/identity.ts";
import { IncidentLog, REPO_ROOT, startBenchWorld, waitUntil } from "./lib.ts";
import { isSmoke, percentile, Report, round } from "./report.ts";

/** Every label combination a busy production plugin could plausibly have. */
function prefill(ops: Operations): void {
  const t = ops.telemetry;
  for (const operation of ["put", "delete", "init"]) t.count("event", { kind: "access_request", operation });
  for (const outcome of ["done", "leased", "transient", "permanent", "cancelled"]) {
    t.count("pass", { outcome });
    t.passSeconds(0.05, outcome);
  }
  for (const result of ["approved", "already_reviewed", "not_on_call", "dry_run", "refused"]) {
    t.count("auto_approval", { result });
  }
  const operations = [
    "GET /abilities",
    "GET /services",
    "GET /users",
    "GET /oncalls",
    "GET /incidents",
    "POST /incidents",
    "POST /incidents/{id}/notes",
    "PUT /incidents/{id}",
  ];
  for (const operation of operations) {
    for (const code of [200, 201, 400, 404, 429, 500, "error"] as const) {
      ops.observeUpstream(operation, code, 0.02);
    }
  }
}

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const report = new Report("scrape", { smoke });
  const count = smoke ? 200 : 5_000;
  const timeoutMs = smoke ? 30_000 : 600_000;
  await using bench = await startBenchWorld();
  const { world } = bench;
  world.config.diag.addr = "127.0.0.1:0";
  await using ops = await startOperations(world.config, {
    plugin: "pagerduty",
    identity: new IdentityExpiry(() => new Date(Date.now() + 30 * 24 * 3600_000)),
  });
  prefill(ops);
  const running = await world.startPlugin();
  ops.provide({
    health: () => running.plugin.health(),
    stats: () => running.plugin.queueStats(),
  });
  const log = new IncidentLog(world.pagerduty);
  const warm = bench.notifyRequest();
  await waitUntil("warm-up", () => log.update().has(warm), 30_000);

  const url = `http://127.0.0.1:${ops.diagPort}/metrics`;
  const scraper = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", `${REPO_ROOT}/bench/scrape_client.ts`, url, "100"],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();

  const lines = scraper.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  while (!output.includes("ready\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the scraper exited before its first scrape");
    output += value;
  }
  report.progress(`creating ${count} requests at once, scraping ${url} every 100 ms`);
  const t0 = performance.now();
  const ids = Array.from({ length: count }, () => bench.notifyRequest());
  await waitUntil(`${count} incidents`, () => ids.every((id) => log.update().has(id)), timeoutMs, 100);
  await waitUntil("drained", () => running.plugin.backlog === 0, timeoutMs, 100);
  const drainS = (performance.now() - t0) / 1000;
  await scraper.stdin.close();
  for (let chunk = await lines.read(); !chunk.done; chunk = await lines.read()) output += chunk.value;
  await scraper.status;
  const { latencies, bytes, failures } = JSON.parse(output.trim().split("\n").at(-1)!) as {
    latencies: number[];
    bytes: number;
    failures: number;
  };
  await running.stop();

  const figures = {
    requests: count,
    drain_s: round(drainS),
    scrapes: latencies.length,
    failures,
    exposition_bytes: bytes,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(Math.max(...latencies)),
    target_ms: 100,
  };
  report.table(
    "/metrics latency while a burst drains (scraper in its own process)",
    ["requests", "drain s", "scrapes", "failed", "body bytes", "p50 ms", "p99 ms", "max ms"],
    [[
      count,
      figures.drain_s,
      figures.scrapes,
      failures,
      bytes,
      figures.p50_ms,
      figures.p99_ms,
      figures.max_ms,
    ]],
  );
  report.note(`target: every scrape under 100 ms; max ${figures.max_ms} ms.`);
  report.finish(figures);
  return figures;
}

if (import.meta.main) await main();
