import assert from "node:assert/strict";
import parsePrometheus from "parse-prometheus-text-format";
import { testConfig } from "../../config/helpers.ts";
import { IdentityExpiry } from "../../../src/ops/diag/identity.ts";
import { COMPONENTS, startOperations } from "../../../src/ops/operations.ts";
import { ConfigReloader } from "../../../src/ops/reload.ts";

const DAY = 24 * 3600 * 1000;

const config = (addr = "127.0.0.1:0") => testConfig({ diagAddr: addr, source: "test.toml" });

/** An identity that expires `ms` from now. */
const identityIn = (ms: number) => new IdentityExpiry(() => new Date(Date.now() + ms));

let publish: () => Promise<void> = () => Promise.resolve();

/** Publishes the current state to the diagnostics worker, then asks it. */
async function get(port: number, path: string, method = "GET") {
  await publish();
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  const text = await response.text();
  return { status: response.status, type: response.headers.get("content-type") ?? "", text };
}

async function getJson(port: number, path: string) {
  const { status, text } = await get(port, path);
  return { status, body: JSON.parse(text) };
}

Deno.test("/livez and /healthz answer 200 from the start; other paths 404; writes 405", async () => {
  await using ops = await startOperations(config(), { plugin: "pagerduty", identity: identityIn(30 * DAY) });
  publish = ops.publish;
  const port = ops.diagPort!;
  assert.deepEqual(await getJson(port, "/livez"), { status: 200, body: { status: "ok" } });
  assert.deepEqual(await getJson(port, "/healthz"), { status: 200, body: { status: "ok" } });
  assert.equal((await get(port, "/nope")).status, 404);
  assert.equal((await get(port, "/livez", "POST")).status, 405);
});

Deno.test("/readyz: 503 until the watch is live, then 200 with every component", async () => {
  await using ops = await startOperations(config(), { plugin: "pagerduty", identity: identityIn(30 * DAY) });
  publish = ops.publish;
  const port = ops.diagPort!;
  let starting = await getJson(port, "/readyz");
  assert.equal(starting.status, 503);
  assert.equal(starting.body.status, "unhealthy");
  assert.deepEqual(Object.keys(starting.body.components), Object.values(COMPONENTS));
  assert.match(starting.body.components.teleport_watch.reason, /starting/);

  let watching = false;
  ops.provide({ health: () => watching ? { watching } : { watching, reason: "reconnecting to Teleport" } });
  starting = await getJson(port, "/readyz");
  assert.equal(starting.status, 503);
  assert.equal(starting.body.components.teleport_watch.reason, "reconnecting to Teleport");

  watching = true;
  const ready = await getJson(port, "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, "healthy");
  const identity = ready.body.components.identity;
  assert.equal(identity.status, "healthy");
  assert.ok(identity.expires_in_seconds > 29 * 24 * 3600 && identity.expires_in_seconds <= 30 * 24 * 3600);
  assert.deepEqual(ready.body.components.rules_cache, { status: "healthy", enabled: false });
  assert.deepEqual(await getJson(port, "/readyz/teleport_watch"), {
    status: 200,
    body: { status: "healthy" },
  });
  assert.equal((await getJson(port, "/readyz/nothing")).status, 404);
});

Deno.test("a failing backend API degrades readiness (still 200); an expired identity fails it", async () => {
  {
    await using ops = await startOperations(config(), {
      plugin: "pagerduty",
      identity: identityIn(30 * DAY),
    });
    publish = ops.publish;
    ops.provide({ health: () => ({ watching: true }) });
    ops.observeUpstream("POST /incidents", 503, 0.1);
    const degraded = await getJson(ops.diagPort!, "/readyz");
    assert.equal(degraded.status, 200);
    assert.equal(degraded.body.status, "degraded");
    assert.match(degraded.body.components.backend_api.reason, /answered HTTP 503/);
    ops.observeUpstream("POST /incidents", 201, 0.1);
    assert.equal((await getJson(ops.diagPort!, "/readyz")).body.status, "healthy");
    ops.observeUpstream("GET /users", 401, 0.1);
    assert.match((await getJson(ops.diagPort!, "/readyz")).body.components.backend_api.reason, /API key/);
  }
  {
    await using ops = await startOperations(config(), { plugin: "pagerduty", identity: identityIn(-1000) });
    publish = ops.publish;
    ops.provide({ health: () => ({ watching: true }) });
    const expired = await getJson(ops.diagPort!, "/readyz");
    assert.equal(expired.status, 503);
    assert.match(expired.body.components.identity.reason, /expired/);
  }
  {
    await using ops = await startOperations(config(), { plugin: "pagerduty", identity: identityIn(DAY) });
    publish = ops.publish;
    ops.provide({ health: () => ({ watching: true }) });
    const soon = await getJson(ops.diagPort!, "/readyz");
    assert.equal(soon.status, 200);
    assert.equal(soon.body.components.identity.status, "degraded");
  }
});

Deno.test("a rejected reload shows in /readyz and /metrics", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/plugin.toml`;
    await Deno.writeTextFile(path, "[pagerduty]\nuser_email = 42\n");
    const reloader = new ConfigReloader({ path, initial: config() });
    await using ops = await startOperations(config(), {
      plugin: "pagerduty",
      identity: identityIn(30 * DAY),
      reloader,
    });
    publish = ops.publish;
    ops.provide({ health: () => ({ watching: true }) });
    assert.equal((await reloader.reload()).result, "invalid");
    const ready = await getJson(ops.diagPort!, "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.body.components.last_reload.status, "degraded");
    assert.equal(ready.body.components.last_reload.result, "invalid");
    const metrics = await get(ops.diagPort!, "/metrics");
    assert.match(
      metrics.text,
      /^teleport_plugin_config_reloads_total\{result="invalid",plugin="pagerduty"\} 1$/m,
    );
    assert.match(metrics.text, /^teleport_plugin_config_last_reload_successful\{plugin="pagerduty"\} 0$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/metrics serves the Prometheus text format with the controller's gauges", async () => {
  await using ops = await startOperations(config(), { plugin: "pagerduty", identity: identityIn(30 * DAY) });
  publish = ops.publish;
  ops.provide({
    health: () => ({ watching: true }),
    stats: () => ({ queueDepth: 12, inFlight: 4, oldestUnprocessedAgeSeconds: 95 }),
  });
  ops.telemetry.count("notification_created");
  ops.observeUpstream("POST /incidents", 201, 0.02);
  const { status, type, text } = await get(ops.diagPort!, "/metrics");
  assert.equal(status, 200);
  assert.match(type, /^text\/plain; version=0\.0\.4/);
  const families = new Map(
    (parsePrometheus as (t: string) => Array<{ name: string; metrics: Array<{ value?: string }> }>)(text)
      .map((f) => [f.name, f]),
  );
  assert.equal(families.get("teleport_plugin_queue_depth")?.metrics[0].value, "12");
  assert.equal(families.get("teleport_plugin_oldest_unprocessed_age_seconds")?.metrics[0].value, "95");
  assert.equal(families.get("teleport_plugin_watcher_up")?.metrics[0].value, "1");
  assert.equal(families.get("teleport_plugin_notifications_created_total")?.metrics[0].value, "1");
  assert.ok(families.has("teleport_plugin_upstream_requests_total"));
});

Deno.test("without [diag] addr nothing listens, but metrics and probes still work", async () => {
  await using ops = await startOperations(config(""), {
    plugin: "pagerduty",
    identity: identityIn(30 * DAY),
  });
  publish = ops.publish;
  assert.equal(ops.diagPort, undefined);
  ops.telemetry.count("cas_conflict");
  assert.match(
    await ops.metrics.render(),
    /teleport_plugin_plugin_data_cas_conflicts_total\{plugin="pagerduty"\} 1/,
  );
});

Deno.test("an address in use is a one-line startup error naming [diag] addr", async () => {
  await using first = await startOperations(config(), {
    plugin: "pagerduty",
    identity: identityIn(30 * DAY),
  });
  await assert.rejects(
    () =>
      startOperations(config(`127.0.0.1:${first.diagPort}`), {
        plugin: "pagerduty",
        identity: identityIn(DAY),
      }),
    /cannot serve the diagnostics endpoints on 127\.0\.0\.1:\d+ \(\[diag\] addr\)/,
  );
});

Deno.test("answers come from the diagnostics worker, even while the main loop is blocked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using ops = await startOperations(config(), {
      plugin: "pagerduty",
      identity: identityIn(30 * DAY),
      diag: { stallMs: 600_000 },
    });
    ops.provide({ health: () => ({ watching: true }) });
    await ops.publish();
    const answer = `${dir}/answer`;
    const script = `const r = await fetch("http://127.0.0.1:${ops.diagPort}/readyz");
      await Deno.writeTextFile("${answer}.tmp", String(r.status)); await Deno.rename("${answer}.tmp", "${answer}");`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    // From here the main thread never yields until the child has its answer: only a
    // server on another thread can have given it one.
    const until = Date.now() + 60_000;
    let status: string | undefined;
    while (status === undefined && Date.now() < until) {
      try {
        status = Deno.readTextFileSync(answer);
      } catch {
        // not yet
      }
    }
    await child.status;
    assert.equal(status, "200");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a main loop that stops publishing fails /livez and /readyz with the reason", async () => {
  await using ops = await startOperations(config(), {
    plugin: "pagerduty",
    identity: identityIn(30 * DAY),
    diag: { stallMs: 50, publishMs: 3_600_000 },
  });
  ops.provide({ health: () => ({ watching: true }) });
  await ops.publish();
  // No publish for longer than stallMs: measured by the worker's clock, not by a sleep here.
  const port = ops.diagPort!;
  let livez = await fetch(`http://127.0.0.1:${port}/livez`);
  const deadline = Date.now() + 10_000;
  while (livez.status === 200 && Date.now() < deadline) {
    await livez.body?.cancel();
    livez = await fetch(`http://127.0.0.1:${port}/livez`);
  }
  assert.equal(livez.status, 503);
  assert.match((await livez.json()).reason, /main loop has not reported/);
  assert.equal(
    (await fetch(`http://127.0.0.1:${port}/readyz`).then(async (r) => (await r.body?.cancel(), r))).status,
    503,
  );
  await ops.publish();
  const recovered = await fetch(`http://127.0.0.1:${port}/livez`);
  await recovered.body?.cancel();
  assert.equal(recovered.status, 200);
});

Deno.test("metrics and diagnostics run under the release permissions (-P=plugin)", async () => {
  const root = new URL("../../..", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-P=plugin", "tests/ops/fixtures/diag_server.ts"],
    cwd: root,
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  try {
    const port = Number(out.trim());
    assert.ok(port > 0, `no port printed: ${JSON.stringify(out)}`);
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    assert.match(metrics, /^teleport_plugin_notifications_created_total\{plugin="pagerduty"\} 1$/m);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
  } finally {
    await child.stdin.close();
    await reader.cancel();
    const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(status.code, 0, stderr);
  }
});
