/**
 * The controller on in-memory ports and a virtual clock: dedupe, races between
 * instances, leases, CAS conflicts, error classes, the Teleport circuit, resync and
 * cancellation. Every wait is for a condition or for virtual time, never real time.
 */
import assert from "node:assert/strict";
import { PermanentError } from "../../src/core/errors.ts";
import { AccessRequestPlugin, type PluginOptions } from "../../src/core/plugin.ts";
import { gate, MemoryBackend, MemoryTeleport, pendingRequest, settle, until, VirtualClock } from "./fakes.ts";

interface Running {
  plugin: AccessRequestPlugin;
  stop: () => Promise<void>;
}

function start(
  teleport: MemoryTeleport,
  backend: MemoryBackend,
  clock: VirtualClock,
  extra: Partial<PluginOptions> = {},
  instanceId = "one",
): Running {
  const plugin = new AccessRequestPlugin({
    teleport,
    backend,
    instanceId,
    requestLink: () => undefined,
    clock,
    ...extra,
  });
  const abort = new AbortController();
  const done = plugin.run(abort.signal);
  return {
    plugin,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** A transient failure (no class: the core's default). */
const transient = () => new Error("connection reset");
/** Teleport unreachable, as the gRPC adapter classifies it. */
const unavailable = () =>
  Object.assign(new Error("Teleport is unavailable"), { failure: "transient", unavailable: true });

Deno.test("events for a request being processed mark it dirty: one pass at a time, then one more", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  const blocked = gate();
  let passes = 0;
  backend.hooks.notify = async () => {
    passes += 1;
    await blocked.promise;
  };
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  const request = pendingRequest("r1");
  teleport.add(request);
  await until("first pass started", () => passes === 1);
  for (let i = 0; i < 5; i++) teleport.add({ ...request, requestReason: `edit ${i}` });
  await settle();
  assert.equal(run.plugin.backlog, 1, "one entry per request");
  blocked.open();
  await until("drained", () => run.plugin.backlog === 0);
  assert.equal(backend.notified.length, 1);
  assert.equal(passes, 1, "the dirty re-run found the incident recorded and owed nothing");
  await run.stop();
});

Deno.test("the startup listing and the watch event of the same request make one pass", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  teleport.add(pendingRequest("r1"), false);
  const run = start(teleport, backend, clock);
  teleport.add(pendingRequest("r1"));
  await run.plugin.ready;
  await until("drained", () => backend.notified.length === 1 && run.plugin.backlog === 0);
  assert.equal(backend.notified.length, 1);
  await run.stop();
});

Deno.test("two instances racing on 100 requests open one notification each", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  let calls = 0;
  backend.hooks.notify = () => {
    calls += 1;
  };
  const a = start(teleport, backend, clock, {}, "a");
  const b = start(teleport, backend, clock, {}, "b");
  await Promise.all([a.plugin.ready, b.plugin.ready]);
  for (let i = 0; i < 100; i++) teleport.add(pendingRequest(`r${i}`));
  await until("all notified", () => backend.notified.length === 100);
  await clock.advance(35_000); // leases of the losers' retries come due
  await until("drained", () => a.plugin.backlog === 0 && b.plugin.backlog === 0);
  assert.equal(backend.notified.length, 100);
  assert.equal(calls, 100, "no notify call was repeated");
  await Promise.all([a.stop(), b.stop()]);
});

Deno.test("a lease that expires mid-pass is taken over, and the new holder checks notes before posting", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  const request = pendingRequest("r1");
  teleport.add(request, false);
  const a = start(teleport, backend, clock, {}, "a");
  await until("a notified", () => backend.notified.length === 1 && a.plugin.backlog === 0);
  // A hangs in a note call that ignores its signal (a stuck socket): its lease runs out.
  const stuck = gate();
  backend.hooks.annotate = () => stuck.promise;
  const reviewed = {
    ...request,
    reviews: [{ author: "rev", proposedState: "APPROVED" as const, reason: "" }],
  };
  teleport.add(reviewed);
  await until(
    "a is posting the note",
    () => (backend.notes.get("r1/svc-a") ?? []).length === 0 && a.plugin.backlog === 1,
  );
  await settle();
  backend.hooks.annotate = undefined;
  const b = start(teleport, backend, clock, {}, "b");
  await b.plugin.ready;
  await clock.advance(31_000);
  await until("b posted the note", () => (backend.notes.get("r1/svc-a") ?? []).length === 1);
  stuck.open(); // A's late note lands: its final write must not clobber B's record.
  await until("a drained", () => a.plugin.backlog === 0);
  const state = JSON.parse(teleport.state("r1")!.state);
  assert.equal(state.reviewsCount, 1);
  assert.equal(state.lease, "");
  await Promise.all([a.stop(), b.stop()]);
});

Deno.test("a CAS conflict at every write is retried and the work still happens once", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  let writes = 0;
  teleport.beforeUpdate = (id) => {
    writes += 1;
    // Every other write races a concurrent writer that changes the stored state.
    if (writes % 2 === 0) return;
    const stored = JSON.parse(teleport.data.get(id)?.state ?? "{}");
    teleport.data.set(id, { state: JSON.stringify({ ...stored, touchedBy: `writer-${writes}` }) });
  };
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  teleport.add(pendingRequest("r1"));
  await until("notified and released", () => backend.notified.length === 1 && run.plugin.backlog === 0);
  assert.ok(teleport.calls.conflicts >= 2, `conflicts: ${teleport.calls.conflicts}`);
  assert.equal(backend.notified.length, 1);
  assert.equal(JSON.parse(teleport.state("r1")!.state).lease, "");
  await run.stop();
});

Deno.test("a permanent error is tried once, recorded, and looked at again only when the request changes or an hour passes", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  let attempts = 0;
  backend.hooks.notify = () => {
    attempts += 1;
    throw new PermanentError("failed to find pagerduty service by name svc-a");
  };
  teleport.add(pendingRequest("r1"), false);
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  await until("first attempt", () => attempts === 1 && run.plugin.health().retrying === 1);
  await clock.advance(30 * 60_000);
  assert.equal(attempts, 1, "no retry within the hour");
  assert.match(JSON.parse(teleport.state("r1")!.state).failure, /service by name svc-a/);
  teleport.add(pendingRequest("r1", { requestReason: "changed" }));
  await until("retried on change", () => attempts === 2);
  await clock.advance(61 * 60_000);
  await until("hourly recheck", () => attempts === 3);
  await run.stop();
});

Deno.test("a transient error is retried with growing delays until it passes", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  let attempts = 0;
  backend.hooks.notify = () => {
    attempts += 1;
    if (attempts <= 3) throw transient();
  };
  teleport.add(pendingRequest("r1"), false);
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  await until("first attempt", () => attempts === 1);
  for (let i = 0; i < 3; i++) await clock.advance(60_000);
  await until("notified", () => backend.notified.length === 1);
  assert.equal(attempts, 4);
  await run.stop();
});

Deno.test("Teleport refusing the plugin's review is logged once, the incident still opens, and no retry loop follows", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  backend.onCall = true;
  teleport.reviewError = Object.assign(new Error('user "plugin" cannot submit reviews'), {
    failure: "permanent",
  });
  teleport.add(pendingRequest("r1", { systemAnnotations: { notify: ["svc-a"], approve: ["svc-a"] } }), false);
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  await until(
    "refused and recorded",
    () => teleport.calls.review === 1 && run.plugin.health().retrying === 1,
  );
  await clock.advance(30 * 60_000);
  assert.equal(teleport.calls.review, 1);
  assert.equal(backend.notified.length, 1);
  const state = JSON.parse(teleport.state("r1")!.state);
  assert.equal(state.approvalChecked, true);
  assert.match(state.failure, /review_requests/);
  await run.stop();
});

Deno.test("auto-approval dry run notes what it would do and submits nothing", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  backend.onCall = true;
  const run = start(teleport, backend, clock, { autoApproval: "dry-run" });
  await run.plugin.ready;
  teleport.add(pendingRequest("r1", { systemAnnotations: { notify: ["svc-a"], approve: ["svc-a"] } }));
  await until("noted", () => (backend.notes.get("r1/svc-a") ?? []).length === 1 && run.plugin.backlog === 0);
  assert.deepEqual(backend.notes.get("r1/svc-a"), ["would approve: r1@example.com is on call"]);
  assert.equal(teleport.calls.review, 0);
  await run.stop();
});

Deno.test("while Teleport is down, passes wait on one circuit instead of each retrying", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  const run = start(teleport, backend, clock, { concurrency: 8 });
  await run.plugin.ready;
  await until("first resync", () => teleport.calls.listPluginData === 1);
  teleport.down = unavailable();
  for (let i = 0; i < 200; i++) teleport.add(pendingRequest(`r${i}`));
  await until("circuit open", () => teleport.calls.get >= 1 && run.plugin.backlog === 200);
  await settle();
  const during = teleport.calls.get;
  assert.ok(during <= 8, `at most one call per pass slot before the circuit opened: ${during}`);
  await clock.advance(2_000); // a half-open probe or two
  assert.ok(teleport.calls.get - during <= 16, `probes, not 200 retries: ${teleport.calls.get - during}`);
  teleport.down = undefined;
  teleport.emit({ type: "init", confirmedKinds: ["access_request"] }); // the watch is back
  await until("all notified", () => backend.notified.length === 200);
  await run.stop();
});

Deno.test("resync after a reconnect lists pending requests a page at a time and looks again only at those no longer pending", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  for (let i = 0; i < 20_000; i++) {
    teleport.data.set(`old${i}`, jsonCodecFinished());
  }
  for (let i = 0; i < 3; i++) teleport.add(pendingRequest(`p${i}`), false);
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  await until("pending notified", () => backend.notified.length === 3 && run.plugin.backlog === 0);
  const gets = teleport.calls.get;
  assert.ok(gets <= 3 * 2, `only the pending requests cost reads: ${gets}`);
  // Disconnected: p0 is approved meanwhile. The reconnect's resync finds it without a plugin-data sweep.
  teleport.requests.set("p0", { ...teleport.requests.get("p0")!, state: "APPROVED" });
  teleport.emit({ type: "lost", reason: "stream reset" });
  teleport.emit({ type: "init", confirmedKinds: ["access_request"] });
  await until("p0 resolved", () => backend.resolved.length === 1 && run.plugin.backlog === 0);
  assert.equal(teleport.calls.listPluginData, 1, "the plugin-data sweep runs once per process");
  assert.equal(teleport.calls.getRequest, 1, "only p0 was fetched");
  assert.ok(
    teleport.calls.get - gets <= 2,
    `unchanged pending requests cost no reads: ${teleport.calls.get - gets}`,
  );
  assert.equal(JSON.parse(teleport.state("p0")!.state).finished, true);
  await run.stop();
});

Deno.test("a request with nothing left to do is marked finished and never looked at again", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  backend.onCall = true;
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  // Approval only: no notification; the plugin approves, Teleport resolves the request.
  teleport.add(pendingRequest("r1", { systemAnnotations: { approve: ["svc-a"] } }));
  await until("approved", () => teleport.reviews.length === 1 && run.plugin.backlog === 0);
  teleport.add(pendingRequest("r1", { state: "APPROVED", systemAnnotations: { approve: ["svc-a"] } }));
  await until("finished", () => JSON.parse(teleport.state("r1")?.state ?? "{}").finished === true);
  await run.stop();
  const again = start(teleport, new MemoryBackend(), clock, {}, "two");
  await again.plugin.ready;
  await until("resynced", () => teleport.calls.listPluginData === 2 && again.plugin.backlog === 0);
  assert.equal(teleport.calls.getRequest, 0, "the finished request was not fetched");
  await again.stop();
});

Deno.test("a note that failed on the second of three notifications is not posted twice on the first", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  const run = start(teleport, backend, clock);
  await run.plugin.ready;
  const request = pendingRequest("r1", { systemAnnotations: { notify: ["a", "b", "c"] } });
  teleport.add(request);
  await until("three notified", () => backend.notified.length === 3 && run.plugin.backlog === 0);
  let failures = 0;
  backend.hooks.annotate = (id) => {
    if (id === "r1/b" && failures++ === 0) throw transient();
  };
  teleport.add({ ...request, reviews: [{ author: "rev", proposedState: "APPROVED", reason: "" }] });
  await until("failed once", () => failures === 1 && run.plugin.health().retrying === 1);
  await clock.advance(60_000);
  await until(
    "noted everywhere",
    () => ["a", "b", "c"].every((k) => backend.notes.get(`r1/${k}`)?.length === 1),
  );
  assert.deepEqual(["a", "b", "c"].map((k) => backend.notes.get(`r1/${k}`)), [
    ["review rev"],
    ["review rev"],
    [
      "review rev",
    ],
  ]);
  assert.equal(JSON.parse(teleport.state("r1")!.state).verifyNotes, false);
  await run.stop();
});

Deno.test("shutdown drops work not started, cancels running passes and records nothing half-done", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  backend.hooks.notify = () => new Promise<void>(() => {}); // never answers; only the signal ends it
  const run = start(teleport, backend, clock, { concurrency: 4 });
  await run.plugin.ready;
  for (let i = 0; i < 5_000; i++) teleport.add(pendingRequest(`r${i}`));
  await until("passes running", () => run.plugin.queueStats().inFlight === 4);
  await run.stop();
  assert.equal(run.plugin.backlog, 0);
  assert.equal(backend.notified.length, 0);
  assert.equal(teleport.data.size, 4, "only the four running passes touched plugin data");
  for (const data of teleport.data.values()) {
    const state = JSON.parse(data.state);
    assert.equal(state.lease, "", "leases released");
    assert.deepEqual(state.notifications, [], "nothing recorded as done");
  }
});

function jsonCodecFinished() {
  return {
    state: JSON.stringify({ notifications: [{ key: "svc-a", ids: { id: "x" } }], resolution: "approved" }),
  };
}

Deno.test("while the backend's API fails, passes wait on its circuit and one probes it at a time", async () => {
  const [teleport, backend, clock] = [new MemoryTeleport(), new MemoryBackend(), new VirtualClock()];
  let down = true;
  let calls = 0;
  backend.hooks.notify = () => {
    calls += 1;
    if (down) throw transient();
  };
  const run = start(teleport, backend, clock, { concurrency: 8 });
  await run.plugin.ready;
  for (let i = 0; i < 200; i++) teleport.add(pendingRequest(`r${i}`));
  await until("circuit open", () => calls >= 1 && run.plugin.queueStats().inFlight === 8).catch((e) => {
    throw new Error(`${e.message}: calls ${calls}, ${JSON.stringify(run.plugin.queueStats())}`);
  });
  await settle();
  const before = calls;
  assert.ok(before <= 8, `at most the passes already in flight reached the backend: ${before}`);
  await clock.advance(60_000);
  const probes = calls - before;
  assert.ok(probes >= 1 && probes <= 30, `a minute of outage costs some probes, not 200 retries: ${probes}`);
  down = false;
  await clock.advance(60_000);
  await until("all notified", () => backend.notified.length === 200);
  await run.stop();
});
