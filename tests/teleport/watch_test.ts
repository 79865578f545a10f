/**
 * The watch: INIT first (with the kinds the server confirmed), then live PUT and
 * DELETE events; a new stream and a new INIT after every disconnect, whatever the
 * cause; and a stable stream under bursts and repeated restarts.
 */
import assert from "node:assert/strict";
import type { WatchEvent } from "../../src/core/types.ts";
import { type Harness, isInit, PLUGIN_USER, startHarness, takeUntil } from "./harness.ts";
import type { TeleportClientOptions } from "../../src/teleport/client.ts";
import { ConnectionProblemError } from "../../src/teleport/errors.ts";

const KINDS = ["access_request", "access_monitoring_rule"];

interface OpenWatch extends AsyncDisposable {
  events: AsyncIterator<WatchEvent>;
}

function openWatch(h: Harness, options?: TeleportClientOptions): OpenWatch {
  const abort = new AbortController();
  const events = h.client({}, options).watch(KINDS, abort.signal)[Symbol.asyncIterator]();
  return {
    events,
    async [Symbol.asyncDispose]() {
      abort.abort();
      await events.return?.();
    },
  };
}

/** Creates a request and checks the very next event is its PUT. */
async function live(h: Harness, events: AsyncIterator<WatchEvent>, user: string): Promise<void> {
  const id = h.double.createRequest({ user, roles: ["admin"] });
  const [put] = await takeUntil(events, () => true);
  assert.equal(put.type === "put" && put.request.id, id);
}

/** Waits for the next INIT, then checks live events flow again. */
async function resyncedAndLive(h: Harness, events: AsyncIterator<WatchEvent>, user: string): Promise<void> {
  await takeUntil(events, isInit);
  await live(h, events, user);
}

Deno.test("the first event is INIT with the kinds the server accepted", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  const [init] = await takeUntil(watch.events, isInit);
  assert.deepEqual(init, { type: "init", confirmedKinds: KINDS });
});

Deno.test("a kind the plugin may not read is left out of INIT (partial success), not an error", async () => {
  await using h = await startHarness();
  h.double.denyAccess(PLUGIN_USER, "access_monitoring_rule");
  await using watch = openWatch(h);
  const [init] = await takeUntil(watch.events, isInit);
  assert.deepEqual(init, { type: "init", confirmedKinds: ["access_request"] });
});

Deno.test("create, review and delete arrive as PUT, PUT and DELETE", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  await takeUntil(watch.events, isInit);
  const id = h.double.createRequest({
    user: "alice",
    roles: ["admin"],
    reason: "incident",
    systemAnnotations: { pagerduty_notify_service: ["svc"] },
  });
  h.double.setReviewer("bob", ["admin"]);
  h.double.review("bob", id, "APPROVED", "looks fine");
  h.double.deleteRequest(id);
  const [created, reviewed, deleted] = await takeUntil(watch.events, (event) => event.type === "delete");
  assert.ok(created.type === "put" && reviewed.type === "put");
  assert.equal(created.request.state, "PENDING");
  assert.equal(created.request.requestReason, "incident");
  assert.deepEqual(created.request.systemAnnotations, { pagerduty_notify_service: ["svc"] });
  assert.equal(reviewed.request.state, "APPROVED");
  assert.deepEqual(reviewed.request.reviews.map((r) => [r.author, r.proposedState, r.reason]), [
    ["bob", "APPROVED", "looks fine"],
  ]);
  assert.deepEqual(deleted, { type: "delete", kind: "access_request", id });
});

Deno.test("after a graceful server restart (GOAWAY) the watch reconnects with a new INIT", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  await takeUntil(watch.events, isInit);
  await h.double.restart({ graceful: true });
  await resyncedAndLive(h, watch.events, "after-graceful");
});

Deno.test("after an abrupt restart (connections destroyed) the watch reconnects with a new INIT", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  await takeUntil(watch.events, isInit);
  await h.double.restart({ graceful: false });
  await resyncedAndLive(h, watch.events, "after-abrupt");
});

Deno.test("a stream dropped with UNAVAILABLE is reopened with a new INIT", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  await takeUntil(watch.events, isInit);
  h.double.dropStreams();
  await resyncedAndLive(h, watch.events, "after-drop");
  assert.equal(h.double.calls.WatchEvents, 2);
});

Deno.test("while the server refuses connections the watch keeps retrying, then resyncs", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  await takeUntil(watch.events, isInit);
  await h.double.refuseConnections(true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await h.double.refuseConnections(false);
  await resyncedAndLive(h, watch.events, "after-outage");
});

Deno.test("a stream whose INIT is late is abandoned and retried", async () => {
  await using h = await startHarness();
  h.double.setLatency(400);
  await using watch = openWatch(h, { watcherTiming: { initTimeoutMs: 150 } });
  const init = takeUntil(watch.events, isInit);
  await new Promise((resolve) => setTimeout(resolve, 500));
  h.double.setLatency(0);
  await init;
  assert.ok(h.double.calls.WatchEvents >= 2, `WatchEvents calls: ${h.double.calls.WatchEvents}`);
});

Deno.test("a watch no kind of which the server supports fails instead of retrying", async () => {
  await using h = await startHarness();
  const abort = new AbortController();
  const events = h.client().watch(["no_such_kind"], abort.signal)[Symbol.asyncIterator]();
  await assert.rejects(events.next(), {
    name: "BadParameterError",
    message: "none of the requested kinds can be watched",
  });
  abort.abort();
});

Deno.test("a burst of 1,000 events arrives complete and in order", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  await takeUntil(watch.events, isInit);
  const ids = Array.from(
    { length: 1_000 },
    (_, i) => h.double.createRequest({ user: `u${i}`, roles: ["admin"] }),
  );
  const events = await takeUntil(
    watch.events,
    (event) => event.type === "put" && event.request.id === ids.at(-1),
    30_000,
  );
  assert.deepEqual(events.map((event) => event.type === "put" && event.request.id), ids);
});

Deno.test("20 consecutive graceful restarts leave the client connected, with an INIT after each", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h);
  const client = h.client();
  await takeUntil(watch.events, isInit);
  for (let restart = 1; restart <= 20; restart++) {
    await h.double.restart({ graceful: true });
    await takeUntil(watch.events, isInit);
  }
  assert.equal(h.double.calls.WatchEvents, 21);
  await live(h, watch.events, "after-20-restarts");
  assert.equal((await client.ping()).clusterName, h.double.clusterName);
});

Deno.test("closing the client ends its watches", async () => {
  await using h = await startHarness();
  const client = h.client();
  const events = client.watch(KINDS, new AbortController().signal)[Symbol.asyncIterator]();
  await takeUntil(events, isInit);
  const next = events.next();
  client.close();
  assert.deepEqual(await next, { done: true, value: undefined });
});

Deno.test("with fail fast, a lost stream ends the watch with a connection problem instead of reconnecting", async () => {
  await using h = await startHarness();
  await using watch = openWatch(h, { watcherTiming: { failFast: true } });
  await takeUntil(watch.events, isInit);
  h.double.dropStreams();
  await assert.rejects(watch.events.next(), ConnectionProblemError);
});
