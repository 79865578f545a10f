/**
 * memory and start: the plugin as a real process, exactly as released
 * (`deno run <permission flags from deno.json> src/main.ts start -c FILE`, TOML config
 * written with the world's credentials), against the doubles in this process.
 *
 *   - start: spawn → "Plugin is ready" logged (also: spawn → first WatchEvents stream open);
 *   - RSS (VmRSS from /proc/<pid>/status) idle after start, peak during a 5,000-request
 *     burst (sampled every 50 ms, plus the kernel's VmHWM), after draining.
 *
 * The process is ended with SIGKILL (docs/deno-http2.md: a graceful client close
 * can abort the grpc-js server of the double in this process).
 *   deno run -A bench/memory.ts [--smoke]
 */
import {
  describeExit,
  IncidentLog,
  PluginProcess,
  sleep,
  startBenchWorld,
  waitUntil,
  writeProcessConfig,
} from "./lib.ts";
import { isSmoke, percentile, Report, round } from "./report.ts";

export async function main(smoke = isSmoke()): Promise<Record<string, unknown>> {
  const report = new Report("memory", { smoke });
  const burstSize = smoke ? 200 : 5_000;
  const starts = smoke ? 2 : 3;
  const settleMs = smoke ? 500 : 5_000;

  await using bench = await startBenchWorld();
  const { world } = bench;
  const config = await writeProcessConfig(world, "memory", { rateLimitPerMinute: 60_000 });

  // ---- start time (several cold starts; the last process stays for the memory part) ----
  const readyMs: number[] = [];
  const watchMs: number[] = [];
  let proc: PluginProcess | undefined;
  for (let i = 0; i < starts; i++) {
    if (proc) await proc.kill();
    const watchesBefore = world.teleport.calls.WatchEvents ?? 0;
    proc = new PluginProcess(`memory-${i}`, config);
    const p = proc;
    let watchAt: number | undefined;
    const watching = waitUntil(
      "first WatchEvents",
      () => {
        if ((world.teleport.calls.WatchEvents ?? 0) > watchesBefore) watchAt ??= performance.now();
        return watchAt !== undefined;
      },
      30_000,
      2,
    );
    const exited = p.status.then((s) => {
      if (!p.killedByUs) throw new Error(`plugin exited during start: ${describeExit(s)}`);
    });
    exited.catch(() => {});
    await Promise.race([Promise.all([p.ready, watching]), exited]);
    readyMs.push(p.readyAt! - p.spawnedAt);
    watchMs.push(watchAt! - p.spawnedAt);
    report.progress(`start ${i + 1}: ready after ${(p.readyAt! - p.spawnedAt).toFixed(0)} ms`);
  }
  const plugin = proc!;
  const memoryOf = async (when: string) => {
    const m = await plugin.memory();
    if (m) return m;
    const status = await Promise.race([plugin.status, sleep(1_000).then(() => null)]);
    throw new Error(
      `no /proc/${plugin.pid}/status ${when}: the process ${
        status ? `exited, ${describeExit(status)}` : "is unreadable"
      }`,
    );
  };
  try {
    await sleep(settleMs);
    const idle = await memoryOf("when idle");

    // ---- burst ---------------------------------------------------------------------------
    const log = new IncidentLog(world.pagerduty);
    const warm = bench.notifyRequest();
    await waitUntil("warm-up incident", () => log.update().has(warm), 30_000);
    await sleep(smoke ? 100 : 1_000);
    const beforeBurst = await memoryOf("before the burst");
    let peak = beforeBurst.rssMiB;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const m = await plugin.memory();
        if (m) peak = Math.max(peak, m.rssMiB);
        await sleep(50);
      }
    })();
    report.progress(`burst of ${burstSize}`);
    const t0 = performance.now();
    const ids = Array.from({ length: burstSize }, () => bench.notifyRequest());
    const processGone = plugin.status.then((s) => {
      throw new Error(`plugin process exited during the burst: code ${s.code} signal ${s.signal}`);
    });
    await Promise.race([
      waitUntil(
        "burst incidents",
        () => ids.every((id) => log.update().has(id)),
        smoke ? 30_000 : 600_000,
        100,
      ),
      processGone,
    ]);
    await waitUntil(
      "leases released",
      () => ids.every((id) => !world.teleport.pluginData(id, "pagerduty")?.lease),
      60_000,
      100,
    );
    const drainS = (performance.now() - t0) / 1000;
    await sleep(settleMs);
    sampling = false;
    await sampler;
    const after = await memoryOf("after draining");

    const figures = {
      start_ready_ms_p50: round(percentile(readyMs, 50), 0),
      start_ready_ms: readyMs.map((v) => round(v, 0)),
      start_first_watch_ms: watchMs.map((v) => round(v, 0)),
      rss_idle_mib: round(idle.rssMiB, 1),
      rss_before_burst_mib: round(beforeBurst.rssMiB, 1),
      rss_peak_burst_mib: round(peak, 1),
      vm_hwm_mib: round(after.hwmMiB, 1),
      rss_after_drain_mib: round(after.rssMiB, 1),
      burst_requests: burstSize,
      burst_drain_s: round(drainS, 1),
      log_lines: plugin.logLines,
    };
    report.table(
      "Plugin process: start and memory",
      ["figure", "value"],
      [
        ['spawn → "Plugin is ready" (ms, each start)', figures.start_ready_ms.join(", ")],
        ["spawn → first WatchEvents (ms)", figures.start_first_watch_ms.join(", ")],
        ["RSS idle after start (MiB)", figures.rss_idle_mib],
        [`RSS peak during ${burstSize} burst (MiB, 50 ms samples)`, figures.rss_peak_burst_mib],
        ["VmHWM (MiB)", figures.vm_hwm_mib],
        [`RSS ${settleMs / 1000} s after draining (MiB)`, figures.rss_after_drain_mib],
        ["burst drain (s)", figures.burst_drain_s],
      ],
    );
    report.finish(figures);
    return figures;
  } finally {
    await plugin.kill();
  }
}

if (import.meta.main) await main();
