/**
 * burst: (1) 5,000 requests created at once against an unthrottled PagerDuty (or, with
 * `--backend opsgenie`, Opsgenie) double: incidents (alerts) per second and time to drain
 * (every one created, no work queued, no lease held). (2) 1,000 requests against a double
 * enforcing 100 requests per 1 s window (6,000/min, 429 past it) with the plugin's
 * client-side limit set to 6,000/min: time to drain versus the rate-limit floor (the
 * calls one create costs × requests ÷ 100/s), and the 429s received.
 *
 * The plugin runs in process (runPlugin / runOpsgenie) against both doubles.
 *   deno run -A bench/burst.ts [--smoke] [--rate-limited-only] [--release-lease] [--backend pagerduty|opsgenie]
 */
import { DEFAULT_LEASE_TTL_MS } from "../src/core/plugin.ts";
import { FAST_TIMINGS, type RunningPlugin } from "../src/doubles/world.ts";
import {
  backendArg,
  type BackendName,
  type BenchBackend,
  type PluginOptions,
  startBackend,
} from "./backends.ts";
import { waitUntil } from "./lib.ts";
import { isSmoke, percentile, Report, round } from "./report.ts";

interface DrainResult {
  requests: number;
  drainS: number;
  lastIncidentS: number;
  incidentsPerS: number;
  /** Incidents or alerts beyond one per request. */
  duplicates: number;
  /** Creates accepted beyond one per request (Opsgenie folds them into the open alert by alias). */
  repeatedCreates: number;
  p50IncidentS: number;
  status429: number;
  apiCalls: number;
  /** When the first backend API call of the burst arrived (Teleport-side work before it). */
  firstCallS: number;
}

/** Accepted creates in the double's request log from `from` on, counted incrementally (answered ones only). */
function createCounter(backend: BenchBackend, from: number): () => number {
  let cursor = from;
  let created = 0;
  const pending: number[] = [];
  return () => {
    const requests = backend.api.requests;
    const visit = (i: number) => {
      if (requests[i].status === 0) pending.push(i);
      else if (backend.isCreate(requests[i])) created++;
    };
    for (const i of pending.splice(0)) visit(i);
    for (; cursor < requests.length; cursor++) visit(cursor);
    return created;
  };
}

async function burst(
  backend: BenchBackend,
  running: RunningPlugin,
  count: number,
  timeoutMs: number,
  report: Report,
): Promise<DrainResult> {
  const { api, noun } = backend;
  const apiFrom = api.requests.length;
  const createdSoFar = createCounter(backend, apiFrom);
  report.progress(`${backend.name}: creating ${count} requests at once`);
  const t0 = performance.now();
  const ids = Array.from({ length: count }, () => backend.notifyRequest());
  await waitUntil(`${count} ${noun}s`, () => createdSoFar() >= count, timeoutMs, 100);
  await waitUntil(
    "drained",
    () =>
      running.plugin.backlog === 0 &&
      ids.every((id) => !backend.teleport.pluginData(id, backend.pluginName)?.lease),
    timeoutMs,
    100,
  );
  const drainS = (performance.now() - t0) / 1000;
  const records = backend.records();
  const lost = ids.filter((id) => !records.has(backend.keyOf(id))).length;
  if (lost > 0) throw new Error(`${lost} of ${count} requests have no ${noun} after the drain`);
  const created = api.requests.slice(apiFrom).filter((r) => backend.isCreate(r));
  const lastIncidentS = (Math.max(...created.map((r) => r.at)) - t0) / 1000;
  return {
    requests: count,
    drainS: round(drainS),
    lastIncidentS: round(lastIncidentS),
    incidentsPerS: round(count / lastIncidentS, 1),
    duplicates: ids.reduce((n, id) => n + records.get(backend.keyOf(id))!.length - 1, 0),
    repeatedCreates: created.length - count,
    p50IncidentS: round((percentile(created.map((r) => r.at), 50) - t0) / 1000),
    status429: api.requests.slice(apiFrom).filter((r) => r.status === 429).length,
    apiCalls: api.requests.length - apiFrom,
    firstCallS: round((Math.min(...api.requests.slice(apiFrom).map((r) => r.at)) - t0) / 1000),
  };
}

/** A backend's world with one plugin instance that has opened a warm-up incident or alert. */
async function warmedUp(name: BackendName, options: PluginOptions, clientPerMinute?: number) {
  const backend = await startBackend(name);
  try {
    if (clientPerMinute !== undefined) backend.setClientRateLimit(clientPerMinute);
    const running = await backend.startPlugin(options);
    const warm = backend.notifyRequest();
    await waitUntil("warm-up", () => backend.records().has(backend.keyOf(warm)), 30_000);
    return { backend, running };
  } catch (error) {
    await backend[Symbol.asyncDispose]();
    throw error;
  }
}

const USAGE =
  `deno run -A bench/burst.ts [--smoke] [--rate-limited-only] [--release-lease] [--backend pagerduty|opsgenie]
  (1) 5,000 requests at once against an unthrottled PagerDuty (Opsgenie) double;
  (2) 1,000 requests against a 6,000/min server limit with the client at 6,000/min: drain vs the floor
      (10 s for PagerDuty's one call per incident, 20 s for Opsgenie's create + status read).
  --smoke              toy sizes (the test suite)
  --rate-limited-only  run (2) only
  --backend NAME       pagerduty (default) or opsgenie
  --release-lease      the release lease TTL (${DEFAULT_LEASE_TTL_MS / 1000} s) instead of the quick 2 s one`;

export async function main(
  smoke = isSmoke(),
  rateLimitedOnly = Deno.args.includes("--rate-limited-only"),
): Promise<Record<string, unknown>> {
  const report = new Report("burst", { smoke });
  const name = backendArg();
  const releaseLease = Deno.args.includes("--release-lease");
  // The world's quick timings (lease 2 s, so a pass gives up after 1.5 s), or the release lease.
  const options: PluginOptions = releaseLease
    ? { plugin: { ...FAST_TIMINGS.plugin, leaseTtlMs: DEFAULT_LEASE_TTL_MS } }
    : {};
  report.note(`backend ${name}; lease ${releaseLease ? "of the release" : "2 s (quick timings)"}`);
  const bigBurst = smoke ? 200 : 5_000;
  const limitedBurst = smoke ? 150 : 1_000;
  const perMinute = smoke ? 3_000 : 6_000;
  const timeoutMs = smoke ? 30_000 : 600_000;

  // ---- 1. unthrottled ----------------------------------------------------------------
  let open: DrainResult | undefined;
  if (!rateLimitedOnly) {
    const { backend, running } = await warmedUp(name, options);
    await using _ = backend;
    open = await burst(backend, running, bigBurst, timeoutMs, report);
  }

  // ---- 2. against a server-side rate limit -------------------------------------------
  let limited: DrainResult;
  const perSecond = perMinute / 60;
  let callsPerCreate: number;
  {
    const { backend, running } = await warmedUp(name, options, perMinute);
    await using _ = backend;
    callsPerCreate = backend.callsPerCreate;
    backend.api.setServerRateLimit({ limit: perSecond, windowMs: 1_000 });
    limited = await burst(backend, running, limitedBurst, timeoutMs, report);
  }
  const floorS = (limitedBurst * callsPerCreate) / perSecond;

  report.table(
    `Bursts of pending requests (${name})`,
    [
      "burst",
      "requests",
      "created/s",
      "last create s",
      "drain s",
      "dup",
      "repeated creates",
      "API calls",
      "429s",
    ],
    [
      ...(open
        ? [[
          "unthrottled",
          open.requests,
          open.incidentsPerS,
          open.lastIncidentS,
          open.drainS,
          open.duplicates,
          open.repeatedCreates,
          open.apiCalls,
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
        limited.repeatedCreates,
        limited.apiCalls,
        limited.status429,
      ],
    ],
  );
  report.note(
    `rate-limited: drain ${limited.drainS} s vs floor ${round(floorS, 1)} s ` +
      `(${
        limitedBurst * callsPerCreate
      } calls at ${perSecond}/s; the server counts 1 s windows from the first call after ` +
      `the last one ended and answers 429 with ratelimit-reset in whole seconds; the client paces with a ` +
      `token bucket of ${perSecond} + ${perSecond}/s and pauses all its calls until the reset once the server ` +
      `says nothing is left: ratelimit-remaining 0 or a 429) = ` +
      `${round(limited.drainS / floorS, 2)}× the floor, ${limited.status429} responses 429; the first ` +
      `${name} call came ${limited.firstCallS} s after the burst was created.`,
  );
  const figures = {
    backend: name,
    lease_ttl_s: (releaseLease ? DEFAULT_LEASE_TTL_MS : FAST_TIMINGS.plugin!.leaseTtlMs!) / 1000,
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
