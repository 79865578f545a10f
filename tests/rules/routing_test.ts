/**
 * Routing by Access Monitoring Rules through the running plugin: rules replace the
 * annotation's notify list, rules created after start and changed while disconnected
 * count, recipients are recorded so notes follow the incidents, and instances agree.
 */
import assert from "node:assert/strict";
import type { AccessMonitoringRule } from "../../src/core/types.ts";
import { eventually } from "../../src/doubles/world.ts";
import { startOpsgenieWorld } from "../../src/doubles/opsgenie_world.ts";
import { REVIEWER1, startSuite, type Suite } from "../parity/fixtures.ts";

function rule(name: string, condition: string, recipients: string[]): AccessMonitoringRule {
  return {
    name,
    subjects: ["access_request"],
    condition,
    notification: { name: "pagerduty", recipients },
    schedules: {},
  };
}

function servicesNotified(suite: Suite, requestId: string): string[] {
  const names = new Map(suite.world.pagerduty.services().map((s) => [s.id, s.name]));
  return suite.world.pagerduty.incidents()
    .filter((i) => i.incidentKey === `teleport-access-request/${requestId}`)
    .map((i) => names.get(i.serviceId) ?? i.serviceId)
    .sort();
}

async function notified(suite: Suite, requestId: string, count: number): Promise<string[]> {
  return await eventually(`${count} incident(s) for ${requestId}`, () => {
    const services = servicesNotified(suite, requestId);
    return services.length >= count ? services : undefined;
  });
}

Deno.test("a matching rule replaces the annotation's services; no match keeps the annotation", async () => {
  await using suite = await startSuite({ startPlugin: false });
  suite.world.teleport.upsertRule(
    rule("db", 'access_request.spec.roles.contains("db-admin")', ["Service 1", "Service 2"]),
  );
  await suite.world.startPlugin();
  const routed = suite.request({ roles: ["db-admin"] });
  const annotated = suite.request();
  assert.deepEqual(await notified(suite, routed, 2), ["Service 1", "Service 2"]);
  assert.deepEqual(await notified(suite, annotated, 1), ["Teleport Notifications"]);
  assert.deepEqual(suite.world.pagerduty.violations, []);
});

Deno.test("a rule created after start applies to the next request (it arrives on the same watch)", async () => {
  await using suite = await startSuite();
  const before = suite.request();
  assert.deepEqual(await notified(suite, before, 1), ["Teleport Notifications"]);
  // One watch stream carries both kinds in order: the rule is in the cache before the request's event.
  suite.world.teleport.upsertRule(
    rule("late", 'access_request.spec.roles.contains("editor")', ["Service 2"]),
  );
  const after = suite.request();
  assert.deepEqual(await notified(suite, after, 1), ["Service 2"]);
  suite.world.teleport.deleteRule("late");
  const deleted = suite.request();
  assert.deepEqual(await notified(suite, deleted, 1), ["Teleport Notifications"]);
});

Deno.test("recipients are recorded at first notification: notes follow the incident after the rule changes", async () => {
  await using suite = await startSuite({ startPlugin: false });
  suite.world.teleport.upsertRule(rule("r", 'access_request.spec.roles.contains("editor")', ["Service 1"]));
  await suite.world.startPlugin();
  const id = suite.request();
  assert.deepEqual(await notified(suite, id, 1), ["Service 1"]);
  const data = await suite.pluginData(id, (d) => d.recipients !== undefined);
  assert.equal(data.recipients, '["Service 1"]');
  suite.world.teleport.upsertRule(rule("r", 'access_request.spec.roles.contains("editor")', ["Service 2"]));
  suite.world.teleport.review(REVIEWER1, id, "APPROVED", "fine");
  await suite.pluginData(id, (d) => d.resolution === "approved");
  assert.deepEqual(servicesNotified(suite, id), ["Service 1"], "no incident in the rule's new service");
  const incident = suite.world.pagerduty.incidents().find((i) => i.incidentKey?.endsWith(id))!;
  assert.equal(incident.status, "resolved");
});

Deno.test("rules changed while disconnected are re-listed on reconnect", async () => {
  await using suite = await startSuite();
  await suite.world.teleport.refuseConnections(true);
  await eventually("not watching", () => !suite.plugin.plugin.health().watching);
  suite.world.teleport.upsertRule(
    rule("offline", 'access_request.spec.roles.contains("editor")', ["Service 2"]),
  );
  await suite.world.teleport.refuseConnections(false);
  await eventually("watching again", () => suite.plugin.plugin.health().watching, 20_000);
  const id = suite.request();
  assert.deepEqual(await notified(suite, id, 1), ["Service 2"]);
});

Deno.test("two instances agree on the recipients of one request", async () => {
  await using suite = await startSuite({ startPlugin: false });
  suite.world.teleport.upsertRule(
    rule("both", 'access_request.spec.roles.contains("editor")', ["Service 1"]),
  );
  await suite.world.startPlugin();
  await suite.world.startPlugin();
  const ids = Array.from({ length: 20 }, () => suite.request());
  for (const id of ids) assert.deepEqual(await notified(suite, id, 1), ["Service 1"]);
  assert.equal(suite.world.pagerduty.incidents().length, 20);
});

for (const api of ["opsgenie", "jsm"] as const) {
  Deno.test(`[${api}] a rule for "opsgenie" routes a request that names no schedule to the rule's schedule`, async () => {
    await using world = await startOpsgenieWorld(api, { proxyPublicAddr: "teleport.example.com:443" });
    const onCall = world.addSchedule("Database On-Call");
    world.teleport.upsertRule({
      name: "db",
      subjects: ["access_request"],
      condition: 'access_request.spec.roles.contains("db-admin")',
      notification: { name: "opsgenie", recipients: [onCall] },
      schedules: {},
    });
    // A rule for another plugin never applies.
    world.teleport.upsertRule(rule("pd-only", 'access_request.spec.roles.contains("db-admin")', ["Other"]));
    await world.startPlugin();
    const id = world.teleport.createRequest({
      user: "carol@example.com",
      roles: ["db-admin"],
      reason: "fix",
    });
    const alert = await eventually(
      "the routed alert",
      () => world.alerts.alerts().find((a) => a.alias === `teleport-access-request/${id}`),
    );
    const scheduleRefs = alert.responders.filter((r) => r.type === "schedule").map((r) => r.name ?? r.id);
    assert.deepEqual(scheduleRefs, [onCall]);
    assert.deepEqual(world.alerts.violations, []);
  });
}
