/**
 * What the Go plugin gets wrong and we must not (spec §9): nothing lost across
 * restarts, reconnects, crashes and PagerDuty failures; nothing duplicated by any
 * number of instances. Real plugin, real doubles, exact counts.
 */
import assert from "node:assert/strict";
import { PagerDutyClient } from "../../src/backends/pagerduty/client.ts";
import { reviewNote } from "../../src/backends/pagerduty/texts.ts";
import { TeleportClient } from "../../src/teleport/client.ts";
import { eventually, type World } from "../../src/doubles/world.ts";
import { REQUESTER, REVIEWER1, startSuite, type Suite } from "../parity/fixtures.ts";

const KEY_PREFIX = "teleport-access-request/";

/** Incidents per request id, and the notes of each. */
function ledger(world: World) {
  const byRequest = new Map<string, ReturnType<World["pagerduty"]["incidents"]>>();
  for (const incident of world.pagerduty.incidents()) {
    const id = (incident.incidentKey ?? "").slice(KEY_PREFIX.length);
    byRequest.set(id, [...(byRequest.get(id) ?? []), incident]);
  }
  return byRequest;
}

function assertOneIncidentEach(world: World, ids: string[]) {
  const incidents = ledger(world);
  for (const id of ids) assert.equal(incidents.get(id)?.length, 1, `incidents of ${id}`);
  assert.equal(world.pagerduty.incidents().length, ids.length);
  assert.deepEqual(world.pagerduty.violations, []);
}

async function allIncidents(suite: Suite, count: number, timeoutMs = 20_000) {
  await eventually(`${count} incidents`, () => suite.world.pagerduty.incidents().length >= count, timeoutMs);
}

async function allResolved(suite: Suite, ids: string[], timeoutMs = 20_000) {
  await eventually(
    "resolutions",
    () => ids.every((id) => ledger(suite.world).get(id)?.[0].status === "resolved"),
    timeoutMs,
  );
}

Deno.test("three instances racing on 50 requests create one incident, one note per review, one resolution each", async () => {
  await using suite = await startSuite();
  await suite.world.startPlugin();
  await suite.world.startPlugin();
  const ids = Array.from({ length: 50 }, () => suite.request({ systemAnnotations: notifyOnly() }));
  await allIncidents(suite, 50);
  for (const id of ids.slice(0, 25)) suite.world.teleport.review(REVIEWER1, id, "APPROVED", "okay");
  await allResolved(suite, ids.slice(0, 25));
  // Let any straggler finish before counting.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertOneIncidentEach(suite.world, ids);
  for (const [i, id] of ids.entries()) {
    const notes = suite.world.pagerduty.notes(ledger(suite.world).get(id)![0].id).map((n) => n.content);
    if (i < 25) {
      assert.equal(notes.length, 2, `notes of ${id}`);
      assert.match(notes[0], /reviewed the request/);
      assert.equal(notes[1], "Access request has been approved\nReason: okay");
    } else assert.deepEqual(notes, []);
  }
  assert.equal(suite.world.pagerduty.countCalls("PUT", "/incidents/"), 25);
});

Deno.test("requests created, approved or deleted while the plugin was stopped are caught up at start", async () => {
  await using suite = await startSuite();
  const before = [
    suite.request({ systemAnnotations: notifyOnly() }),
    suite.request({ systemAnnotations: notifyOnly() }),
  ];
  await allIncidents(suite, 2);
  await suite.plugin.stop();

  const whileStopped = Array.from({ length: 5 }, () => suite.request({ systemAnnotations: notifyOnly() }));
  suite.world.teleport.setState(before[0], "APPROVED", "okay");
  suite.world.teleport.deleteRequest(before[1]);
  await suite.world.startPlugin();

  await allIncidents(suite, 7);
  await allResolved(suite, before);
  assertOneIncidentEach(suite.world, [...before, ...whileStopped]);
  const incidents = ledger(suite.world);
  assert.deepEqual(suite.world.pagerduty.notes(incidents.get(before[0])![0].id).map((n) => n.content), [
    "Access request has been approved\nReason: okay",
  ]);
  assert.deepEqual(suite.world.pagerduty.notes(incidents.get(before[1])![0].id).map((n) => n.content), [
    "Access request has been expired\n",
  ]);
});

for (const postReachedPagerDuty of [false, true]) {
  Deno.test(`a crash between claim and incident is completed once (POST ${postReachedPagerDuty ? "did" : "did not"} reach PagerDuty)`, async () => {
    await using suite = await startSuite({ startPlugin: false });
    const id = suite.request({ systemAnnotations: notifyOnly() });
    // What an instance leaves behind when killed right after its claim: the entry, its lease, no incident id.
    using teleport = closing(TeleportClient.connect(suite.world.config.teleport));
    await teleport.updatePluginData(id, "pagerduty", {
      user: REQUESTER,
      roles: "editor",
      target: "Teleport Notifications",
      lease: `crashed-instance@${Date.now() + 1_000}`,
    }, { incident_id: "" });
    if (postReachedPagerDuty) {
      using pagerduty = new PagerDutyClient(suite.world.config.pagerduty);
      await pagerduty.createIncident({
        serviceId: suite.notifyService.id,
        requestId: id,
        title: "t",
        details: "d",
      });
    }
    await suite.world.startPlugin();
    const data = await suite.pluginData(id, (d) => (d.incident_id ?? "") !== "" && !d.lease);
    assertOneIncidentEach(suite.world, [id]);
    assert.equal(data.incident_id, suite.world.pagerduty.incidents()[0].id);
    // When the crashed POST did land, the plugin's repeat is refused by the incident key and the existing one is used.
    const created = suite.world.pagerduty.requests.filter((r) =>
      r.method === "POST" && r.path === "/incidents"
    );
    assert.deepEqual(created.map((r) => r.status), postReachedPagerDuty ? [201, 400] : [201]);
  });
}

Deno.test("a takeover does not repeat a note the dead instance posted but did not record", async () => {
  await using suite = await startSuite({ startPlugin: false });
  const first = await suite.world.startPlugin();
  const id = suite.request({ systemAnnotations: notifyOnly(), thresholds: { approve: 2, deny: 2 } });
  const incident = await suite.incidentOf(id);
  await suite.pluginData(id, (d) => !d.lease);
  await first.stop();
  suite.world.teleport.review(REVIEWER1, id, "APPROVED", "okay");
  // The dead instance: took the lease, posted the note, died before recording it.
  using teleport = closing(TeleportClient.connect(suite.world.config.teleport));
  const data = (await teleport.getPluginData(id, "pagerduty"))!;
  await teleport.updatePluginData(id, "pagerduty", { lease: `crashed-instance@${Date.now() + 500}` }, data);
  using pagerduty = new PagerDutyClient(suite.world.config.pagerduty);
  await pagerduty.addNote(incident.id, reviewNote(suite.world.teleport.getRequest(id)!.reviews[0]));

  await suite.world.startPlugin();
  await suite.pluginData(id, (d) => d.reviews_count === "1" && !d.lease);
  assert.equal(suite.world.pagerduty.notes(incident.id).length, 1);
});

Deno.test("a pass records only what it changed: a concurrent writer's other fields survive", async () => {
  await using suite = await startSuite();
  suite.world.pagerduty.injectLatency({ method: "POST", pathPrefix: "/incidents" }, 500);
  const id = suite.request({ systemAnnotations: notifyOnly() });
  // While the pass waits for PagerDuty, a Go peer rewrites a field of its own.
  const leased = await suite.pluginData(id, (d) => (d.lease ?? "") !== "");
  using teleport = closing(TeleportClient.connect(suite.world.config.teleport));
  await teleport.updatePluginData(id, "pagerduty", { request_reason: "edited by a peer" }, leased);
  const data = await suite.pluginData(id, (d) => (d.incident_id ?? "") !== "" && !d.lease);
  assert.equal(data.request_reason, "edited by a peer");
});

Deno.test("a Teleport restarting mid-burst loses and duplicates nothing", async () => {
  await using suite = await startSuite();
  const ids: string[] = [];
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 25; i++) ids.push(suite.request({ systemAnnotations: notifyOnly() }));
    await suite.world.teleport.restart({ graceful: round % 2 === 0 });
  }
  await allIncidents(suite, 100);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertOneIncidentEach(suite.world, ids);
});

Deno.test("readiness follows the watch: not ready while Teleport is unreachable, ready again after", async () => {
  await using suite = await startSuite();
  const { plugin } = suite.plugin;
  assert.equal(plugin.health().watching, true);
  await suite.world.teleport.refuseConnections(true);
  const lost = await eventually("not watching", () => !plugin.health().watching && plugin.health());
  assert.match(lost.reason ?? "", /^reconnecting to Teleport: /);
  await suite.world.teleport.refuseConnections(false);
  await eventually("watching again", () => plugin.health().watching);
});

Deno.test("PagerDuty 429 and 503 storms end with exact incidents, notes and resolutions", async () => {
  await using suite = await startSuite();
  suite.world.pagerduty.inject429({ everyNth: 3 }, { retryAfterSeconds: 0 });
  suite.world.pagerduty.inject5xx({ forMs: 1_500 }, 503);
  const ids = Array.from({ length: 30 }, () => suite.request({ systemAnnotations: notifyOnly() }));
  await allIncidents(suite, 30);
  for (const id of ids.slice(0, 10)) suite.world.teleport.setState(id, "DENIED", "no");
  await allResolved(suite, ids.slice(0, 10));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertOneIncidentEach(suite.world, ids);
  for (const id of ids.slice(0, 10)) {
    const notes = suite.world.pagerduty.notes(ledger(suite.world).get(id)![0].id).map((n) => n.content);
    assert.deepEqual(notes, ["Access request has been denied\nReason: no"], `notes of ${id}`);
  }
});

Deno.test("a PagerDuty outage longer than one attempt's budget is ridden out: every request gets its incident", async () => {
  await using suite = await startSuite();
  suite.world.pagerduty.inject5xx({ forMs: 7_000 }, 503);
  const ids = Array.from({ length: 10 }, () => suite.request({ systemAnnotations: notifyOnly() }));
  await allIncidents(suite, 10, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assertOneIncidentEach(suite.world, ids);
  assert.ok(suite.plugin.plugin.stats.failures > 0, "the outage was felt");
});

Deno.test("every notify service gets an incident; the first keeps the Go plugin's keys", async () => {
  await using suite = await startSuite();
  const second = suite.world.pagerduty.addService({ name: "Second Line" });
  const id = suite.request({
    systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications", "Second Line"] },
  });
  const data = await suite.pluginData(id, (d) => (d.extra_incidents ?? "") !== "");
  const incidents = suite.world.pagerduty.incidents();
  assert.equal(incidents.length, 2);
  const first = incidents.find((i) => i.serviceId === suite.notifyService.id)!;
  const other = incidents.find((i) => i.serviceId === second.id)!;
  assert.equal(data.incident_id, first.id);
  assert.equal(data.service_id, suite.notifyService.id);
  assert.deepEqual(JSON.parse(data.extra_incidents), [
    { target: "Second Line", serviceId: second.id, incidentId: other.id },
  ]);
  suite.world.teleport.setState(id, "APPROVED", "okay");
  await eventually(
    "both resolved",
    () => suite.world.pagerduty.incidents().every((i) => i.status === "resolved"),
  );
  for (const incident of [first, other]) {
    assert.deepEqual(suite.world.pagerduty.notes(incident.id).map((n) => n.content), [
      "Access request has been approved\nReason: okay",
    ]);
  }
});

Deno.test("the fleet checks on-call and approves once per request, whatever events follow", async () => {
  await using suite = await startSuite();
  await suite.world.startPlugin();
  await suite.world.startPlugin();
  const user = suite.world.pagerduty.addUser({ name: "Test User", email: REQUESTER });
  suite.world.pagerduty.addOnCall({ userId: user.id, escalationPolicyId: suite.policies[0] });
  const id = suite.request({ thresholds: { approve: 2, deny: 2 } });
  await eventually("plugin review", () => suite.world.teleport.getRequest(id)?.reviews.length === 1);
  suite.world.teleport.review(REVIEWER1, id, "DENIED", "hmm");
  await suite.pluginData(id, (d) => d.reviews_count === "2" && !d.lease);
  assert.equal(suite.world.teleport.calls["SubmitAccessReview"], 1);
  assert.equal(suite.world.pagerduty.countCalls("GET", "/oncalls"), 1);
});

Deno.test("an incident recorded by the Go plugin is reused, not duplicated, and resolved", async () => {
  await using suite = await startSuite({ startPlugin: false });
  const id = suite.request({ systemAnnotations: notifyOnly() });
  using pagerduty = new PagerDutyClient(suite.world.config.pagerduty);
  const incident = await pagerduty.createIncident({
    serviceId: suite.notifyService.id,
    requestId: id,
    title: "Access request from " + REQUESTER,
    details: "d",
  });
  using teleport = closing(TeleportClient.connect(suite.world.config.teleport));
  // The Go plugin's nine keys, exactly as it writes them.
  await teleport.updatePluginData(id, "pagerduty", {
    incident_id: incident.id,
    service_id: suite.notifyService.id,
    user: REQUESTER,
    roles: "editor",
    created: "1700000000",
    request_reason: "because of",
    reviews_count: "",
    resolution: "",
    resolve_reason: "",
  }, { incident_id: "" });
  await suite.world.startPlugin();
  suite.world.teleport.setState(id, "APPROVED", "okay");
  const data = await suite.pluginData(id, (d) => d.resolution === "approved");
  assert.equal(data.incident_id, incident.id);
  assertOneIncidentEach(suite.world, [id]);
  assert.equal(suite.world.pagerduty.incidents()[0].status, "resolved");
});

function notifyOnly(): Record<string, string[]> {
  return { pagerduty_notify_service: ["Teleport Notifications"] };
}

function closing(client: TeleportClient): TeleportClient & Disposable {
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

Deno.test("a stop in the middle of a 5,000-request burst cancels the passes in hand and sends nothing after", async () => {
  await using suite = await startSuite({ startPlugin: false });
  // Slow answers keep many passes in flight when the stop comes.
  suite.world.pagerduty.injectLatency({ method: "POST", pathPrefix: "/incidents" }, 200);
  const ids = Array.from({ length: 5_000 }, () => suite.request({ systemAnnotations: notifyOnly() }));
  const running = await suite.world.startPlugin();
  await allIncidents(suite, 50);
  await running.stop();
  const stoppedAt = performance.now();
  const posts = () => suite.world.pagerduty.requests.filter((r) => r.method === "POST").length;
  const postsAtStop = posts();
  // Any request the plugin had sent would already be recorded: its clients are closed.
  assert.ok(
    suite.world.pagerduty.requests.every((r) => r.at <= stoppedAt),
    "a call reached PagerDuty after the stop",
  );
  assert.ok(suite.world.pagerduty.incidents().length < ids.length, "work not started was dropped");
  // Nothing half-done is recorded as done, and every lease taken was given back.
  for (const id of ids) {
    const data = suite.world.teleport.pluginData(id, "pagerduty");
    if (!data) continue;
    assert.equal(data.lease ?? "", "", `lease of ${id}`);
    if (data.incident_id) {
      assert.ok(
        ledger(suite.world).get(id)?.some((i) => i.id === data.incident_id),
        `recorded incident of ${id}`,
      );
    }
  }
  // A new instance finishes the rest: every request ends with exactly one incident.
  await suite.world.startPlugin();
  suite.world.pagerduty.clearFaults();
  await allIncidents(suite, ids.length, 120_000);
  assertOneIncidentEach(suite.world, ids);
  assert.ok(posts() >= postsAtStop);
});
