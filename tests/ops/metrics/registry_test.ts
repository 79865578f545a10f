import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { PluginMetrics } from "../../../src/ops/metrics/registry.ts";

/** One family as the independent parser reads it. */
interface Family {
  name: string;
  type: string;
  help: string;
  metrics: Array<
    {
      value?: string;
      labels?: Record<string, string>;
      buckets?: Record<string, string>;
      count?: string;
      sum?: string;
    }
  >;
}

async function scrape(metrics: PluginMetrics): Promise<Map<string, Family>> {
  const families = (parsePrometheus as (text: string) => Family[])(await metrics.render());
  return new Map(families.map((f) => [f.name, f]));
}

function sample(family: Family | undefined, labels: Record<string, string>): string | undefined {
  return family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
}

const BUILD = { plugin: "pagerduty", version: "1.2.3", gitRef: "abc123" };

Deno.test("every metric is teleport_plugin_*, typed, documented and labelled with the plugin", async () => {
  const metrics = new PluginMetrics(BUILD);
  metrics.count("event", { kind: "access_request", operation: "put" });
  const families = await scrape(metrics);
  assert.ok(families.size >= 20, `only ${families.size} families`);
  for (const family of families.values()) {
    assert.match(family.name, /^teleport_plugin_[a-z_]+$/);
    assert.notEqual(family.help, "", family.name);
    for (const m of family.metrics) assert.equal(m.labels?.plugin, "pagerduty", family.name);
    if (family.type === "COUNTER") assert.match(family.name, /_total$/, family.name);
  }
  assert.equal(sample(families.get("teleport_plugin_info"), { version: "1.2.3", git_ref: "abc123" }), "1");
});

Deno.test("core counters and pass durations arrive under their names and labels", async () => {
  const metrics = new PluginMetrics(BUILD);
  metrics.count("event", { kind: "access_request", operation: "put" });
  metrics.count("event", { kind: "access_request", operation: "put" });
  metrics.count("event", { kind: "access_request", operation: "delete" });
  metrics.count("pass", { outcome: "done" });
  metrics.count("notification_created");
  metrics.count("note", { kind: "would-approve" });
  metrics.count("resolution", { resolution: "approved" });
  metrics.count("auto_approval", { result: "dry_run" });
  metrics.count("cas_conflict");
  metrics.count("lease_takeover");
  metrics.count("watch_reconnect");
  metrics.count("resync", { outcome: "ok" });
  metrics.passSeconds(0.3, "done");
  metrics.passSeconds(42, "transient");
  const f = await scrape(metrics);
  assert.equal(
    sample(f.get("teleport_plugin_events_total"), { kind: "access_request", operation: "put" }),
    "2",
  );
  assert.equal(sample(f.get("teleport_plugin_events_total"), { operation: "delete" }), "1");
  assert.equal(sample(f.get("teleport_plugin_passes_total"), { outcome: "done" }), "1");
  assert.equal(sample(f.get("teleport_plugin_notifications_created_total"), {}), "1");
  assert.equal(sample(f.get("teleport_plugin_notes_total"), { kind: "would-approve" }), "1");
  assert.equal(sample(f.get("teleport_plugin_resolutions_total"), { resolution: "approved" }), "1");
  assert.equal(sample(f.get("teleport_plugin_auto_approvals_total"), { result: "dry_run" }), "1");
  assert.equal(sample(f.get("teleport_plugin_plugin_data_cas_conflicts_total"), {}), "1");
  assert.equal(sample(f.get("teleport_plugin_lease_takeovers_total"), {}), "1");
  assert.equal(sample(f.get("teleport_plugin_watch_reconnects_total"), {}), "1");
  assert.equal(sample(f.get("teleport_plugin_resyncs_total"), { outcome: "ok" }), "1");
  assert.equal(f.get("teleport_plugin_pass_duration_seconds")?.type, "HISTOGRAM");
  // The independent parser flattens labelled histograms, so their series are read from the text.
  const text = await metrics.render();
  const line = (series: string) =>
    new RegExp(`^${series.replace(/[{}.+]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1];
  assert.equal(
    line('teleport_plugin_pass_duration_seconds_bucket{le="0.25",plugin="pagerduty",outcome="done"}'),
    "0",
  );
  assert.equal(
    line('teleport_plugin_pass_duration_seconds_bucket{le="0.5",plugin="pagerduty",outcome="done"}'),
    "1",
  );
  assert.equal(line('teleport_plugin_pass_duration_seconds_count{plugin="pagerduty",outcome="done"}'), "1");
  assert.equal(
    line('teleport_plugin_pass_duration_seconds_bucket{le="30",plugin="pagerduty",outcome="transient"}'),
    "0",
  );
  assert.equal(
    line('teleport_plugin_pass_duration_seconds_bucket{le="60",plugin="pagerduty",outcome="transient"}'),
    "1",
  );
  assert.equal(
    line('teleport_plugin_pass_duration_seconds_sum{plugin="pagerduty",outcome="transient"}'),
    "42",
  );
});

Deno.test("labels the core leaves out are empty rather than an error; unknown ones are dropped", async () => {
  const metrics = new PluginMetrics(BUILD);
  metrics.count("note", {});
  metrics.count("note", { kind: "review", extra: "x" });
  const f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_notes_total"), { kind: "" }), "1");
  assert.equal(sample(f.get("teleport_plugin_notes_total"), { kind: "review" }), "1");
  assert.ok(f.get("teleport_plugin_notes_total")!.metrics.every((m) => !("extra" in (m.labels ?? {}))));
});

Deno.test("backend calls by operation and code with latency; rate-limit waits by source", async () => {
  const metrics = new PluginMetrics(BUILD);
  metrics.observeUpstream("POST /incidents", 201, 0.02);
  metrics.observeUpstream("POST /incidents", 429, 0.01);
  metrics.observeUpstream("GET /oncalls", "error", 10);
  metrics.rateLimitWait("server", 1.5);
  metrics.rateLimitWait("client", 0.25);
  metrics.rateLimitWait("client", 0.25);
  const f = await scrape(metrics);
  const calls = f.get("teleport_plugin_upstream_requests_total");
  assert.equal(sample(calls, { upstream: "pagerduty", operation: "POST /incidents", code: "201" }), "1");
  assert.equal(sample(calls, { operation: "POST /incidents", code: "429" }), "1");
  assert.equal(sample(calls, { operation: "GET /oncalls", code: "error" }), "1");
  assert.equal(f.get("teleport_plugin_upstream_request_duration_seconds")?.type, "HISTOGRAM");
  assert.match(
    await metrics.render(),
    /^teleport_plugin_upstream_request_duration_seconds_count\{plugin="pagerduty",upstream="pagerduty",operation="POST \/incidents"\} 2$/m,
  );
  assert.equal(sample(f.get("teleport_plugin_upstream_rate_limit_waits_total"), { source: "client" }), "2");
  assert.equal(
    sample(f.get("teleport_plugin_upstream_rate_limit_wait_seconds_total"), { source: "server" }),
    "1.5",
  );
});

Deno.test("gauges are read from the providers at scrape time", async () => {
  let depth = 3;
  const metrics = new PluginMetrics(BUILD, { identityNotAfter: () => new Date("2030-01-02T03:04:05Z") });
  let f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_watcher_up"), {}), "0");
  assert.equal(sample(f.get("teleport_plugin_identity_expiry_timestamp_seconds"), {}), "1893553445");
  metrics.provide({
    watching: () => true,
    stats: () => ({ queueDepth: depth, inFlight: 2, oldestUnprocessedAgeSeconds: 7.5 }),
  });
  f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_watcher_up"), {}), "1");
  assert.equal(sample(f.get("teleport_plugin_queue_depth"), {}), "3");
  assert.equal(sample(f.get("teleport_plugin_in_flight"), {}), "2");
  assert.equal(sample(f.get("teleport_plugin_oldest_unprocessed_age_seconds"), {}), "7.5");
  depth = 0;
  f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_queue_depth"), {}), "0");
});

Deno.test("reload outcomes: a counter by result and whether the last one succeeded", async () => {
  const metrics = new PluginMetrics(BUILD);
  let f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_config_last_reload_successful"), {}), "1");
  metrics.reloaded("invalid");
  f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_config_reloads_total"), { result: "invalid" }), "1");
  assert.equal(sample(f.get("teleport_plugin_config_last_reload_successful"), {}), "0");
  metrics.reloaded("ok");
  f = await scrape(metrics);
  assert.equal(sample(f.get("teleport_plugin_config_last_reload_successful"), {}), "1");
});

Deno.test("ids in a backend call's path are folded so each endpoint is one series", async () => {
  const metrics = new PluginMetrics(BUILD);
  metrics.observeUpstream("POST /incidents/Q1X2Y3Z/notes", 201, 0.01);
  metrics.observeUpstream("POST /incidents/PABCDEF/notes", 201, 0.01);
  metrics.observeUpstream("PUT /incidents/PTELEPORTCHECK", 404, 0.01);
  metrics.observeUpstream("GET /services?query=x", 200, 0.01);
  metrics.observeUpstream("GET /abilities", 200, 0.01);
  const calls = (await scrape(metrics)).get("teleport_plugin_upstream_requests_total");
  assert.deepEqual(
    calls?.metrics.map((m) => `${m.labels?.operation} ${m.labels?.code} ${m.value}`).sort(),
    [
      "GET /abilities 200 1",
      "GET /services 200 1",
      "POST /incidents/{id}/notes 201 2",
      "PUT /incidents/{id} 404 1",
    ],
  );
});
