/**
 * Every benchmark in smoke mode (toy sizes, seconds), as its own process exactly as
 * `deno task bench` runs it: it must finish and end stdout with its JSON figures.
 * Timings are never asserted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../fakes/temp_dir.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FLAGS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-run", "--allow-sys"];

/** The last lines of every log file the benchmark left under `dir` (its plugin processes' logs). */
async function logTails(dir: string, lines = 30): Promise<string> {
  const tails: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) tails.push(await logTails(path, lines));
    else if (entry.name.endsWith(".log")) {
      const text = (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines).join("\n");
      tails.push(`--- last ${lines} lines of ${entry.name}\n${text}`);
    }
  }
  return tails.filter((t) => t !== "").join("\n");
}

async function runSmoke(file: string, extraArgs: readonly string[] = []): Promise<Record<string, unknown>> {
  // The benchmark's worlds (credentials, logs) go to a directory of ours, removed even if it crashes.
  await using tmp = await tempDir("bench-smoke-");
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, file, "--smoke", ...extraArgs],
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", BENCH_SMOKE: "1", TMPDIR: tmp.path },
    stdin: "null",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.code !== 0) {
    // The logs go with the directory: show what they say first.
    assert.fail(
      `${file} exited ${output.code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n${await logTails(
        tmp.path,
      )}`,
    );
  }
  const last = stdout.trimEnd().split("\n").at(-1) ?? "";
  let figures: Record<string, unknown>;
  try {
    figures = JSON.parse(last);
  } catch {
    throw new Error(`${file}: the last stdout line is not JSON: ${last}\n--- stdout\n${stdout}`);
  }
  assert.equal(figures.smoke, true);
  assert.equal(typeof (figures.machine as { cores?: unknown })?.cores, "number");
  return figures;
}

for (
  const [name, file, keys, args = []] of [
    ["api-calls", "bench/api_calls.ts", ["notify_pd_calls_per_request", "approval_pd_calls_per_request"]],
    ["latency", "bench/latency.ts", ["p50_ms", "p99_ms", "floor_p50_ms", "p99_over_floor"]],
    ["burst", "bench/burst.ts", ["unthrottled", "rate_limited"]],
    ["memory", "bench/memory.ts", ["start_ready_ms", "rss_idle_mib", "rss_peak_burst_mib"]],
    ["scrape", "bench/scrape.ts", ["p50_ms", "p99_ms", "max_ms", "scrapes"]],
    ["faults", "bench/faults.ts", ["incidents_lost", "incidents_duplicated", "processes_died_on_their_own"]],
    ["faults", "bench/faults.ts", [
      "alerts_lost",
      "alerts_duplicated",
      "closes_lost",
      "teleport_rpcs_per_request",
    ], ["--backend", "opsgenie"]],
    ["opsgenie", "bench/opsgenie.ts", [
      "opsgenie_notify_calls_per_request",
      "jsm_notify_calls_per_request",
      "opsgenie_alerts_lost",
      "jsm_alerts_duplicated",
    ]],
    ["soak", "bench/soak.ts", ["rss_growth_after_warmup_pct", "incidents_lost", "incidents_duplicated"]],
    ["goaway", "bench/goaway.ts", ["deaths", "stuck", "server_deaths"]],
  ] as const
) {
  Deno.test({
    name: `bench smoke: ${[name, ...args].join(" ")} completes and prints its JSON figures`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const figures = await runSmoke(file, args);
      assert.equal(figures.bench, name);
      for (const key of keys) assert.ok(key in figures, `${name}: JSON lacks ${key}`);
    },
  });
}
