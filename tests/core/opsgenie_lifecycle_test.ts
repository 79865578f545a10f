/**
 * Crash, takeover and compatibility cases that depend on how Opsgenie and JSM
 * Operations work (alias de-duplication, asynchronous writes, upstream's plugin-data
 * keys), on both APIs, through the real plugin and the contract-checked doubles.
 */
import assert from "node:assert/strict";
import { alertAlias, createOpsgenieClient, noteText } from "../../src/backends/opsgenie/mod.ts";
import { type AlertApi, type OpsgenieWorld, startOpsgenieWorld } from "../../src/doubles/opsgenie_world.ts";
import { eventually, PLUGIN_USER } from "../../src/doubles/world.ts";
import { TeleportClient } from "../../src/teleport/client.ts";

const REQUESTER = "requester-oss@example.com";
const REVIEWER = "reviewer1@example.com";

async function startWorld(api: AlertApi): Promise<OpsgenieWorld & { schedule: string }> {
  const world = await startOpsgenieWorld(api, {
    advancedAccessWorkflows: true,
    proxyPublicAddr: "teleport.example.com:443",
  });
  for (const reviewer of [PLUGIN_USER, REVIEWER]) world.teleport.setReviewer(reviewer, ["editor"]);
  return Object.assign(world, { schedule: world.addSchedule("Teleport Notifications") });
}

function request(
  world: OpsgenieWorld & { schedule: string },
  extra: Record<string, string[]> = {},
  thresholds?: { approve: number; deny: number },
) {
  return world.teleport.createRequest({
    user: REQUESTER,
    roles: ["editor"],
    reason: "because of",
    systemAnnotations: { "teleport.dev/notify-services": [world.schedule], ...extra },
    thresholds,
  });
}

function pluginData(world: OpsgenieWorld, id: string, probe: (d: Record<string, string>) => boolean) {
  return eventually(`plugin data of ${id}`, () => {
    const data = world.teleport.pluginData(id, "opsgenie");
    return data && probe(data) ? data : undefined;
  });
}

function teleportClient(world: OpsgenieWorld) {
  const client = TeleportClient.connect(world.config.teleport);
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

for (const api of ["opsgenie", "jsm"] as const) {
  for (const postLanded of [false, true]) {
    Deno.test(`[${api}] a crash between claim and alert is completed with one alert (the create ${postLanded ? "did" : "did not"} land)`, async () => {
      await using world = await startWorld(api);
      const id = request(world);
      // What an instance leaves behind when killed right after its claim: the entry, its lease, no alert id.
      using teleport = teleportClient(world);
      await teleport.updatePluginData(id, "opsgenie", {
        user: REQUESTER,
        roles: "editor",
        recipients: JSON.stringify([`schedule:${world.schedule}`]),
        lease: `crashed-instance@${Date.now() + 1_000}`,
      }, { alert_id: "" });
      if (postLanded) {
        using client = createOpsgenieClient(world.config.opsgenie);
        await client.createAlert({
          message: "m",
          alias: alertAlias(id),
          description: "",
          responders: [],
          tags: [],
        });
      }
      await world.startPlugin();
      const data = await pluginData(world, id, (d) => (d.alert_id ?? "") !== "" && !d.lease);
      const alerts = world.alerts.alerts();
      assert.equal(alerts.length, 1, "one alert");
      assert.equal(data.alert_id, alerts[0].id);
      assert.equal(data.alert_alias, alertAlias(id));
      // A create that landed is de-duplicated by its alias: the API folds the repeat into it.
      assert.equal(alerts[0].count, postLanded ? 2 : 1);
      assert.deepEqual(world.alerts.violations, []);
    });
  }

  Deno.test(`[${api}] a takeover does not repeat a note the dead instance posted but did not record`, async () => {
    await using world = await startWorld(api);
    const first = await world.startPlugin();
    const id = request(world, {}, { approve: 2, deny: 2 });
    await pluginData(world, id, (d) => !!d.alert_id && !d.lease);
    await first.stop();
    const review = world.teleport.review(REVIEWER, id, "APPROVED", "okay").reviews[0];
    // The dead instance: took the lease, posted the note, died before recording it.
    using teleport = teleportClient(world);
    const data = (await teleport.getPluginData(id, "opsgenie"))!;
    await teleport.updatePluginData(id, "opsgenie", { lease: `crashed-instance@${Date.now() + 500}` }, data);
    using client = createOpsgenieClient(world.config.opsgenie);
    await client.addNote(
      { id: data.alert_id, alias: data.alert_alias },
      noteText({ kind: "review", review }),
    );
    await world.startPlugin();
    await pluginData(world, id, (d) => d.reviews_count === "1" && !d.lease);
    assert.equal(world.alerts.alertByAlias(alertAlias(id))!.notes.length, 1);
    assert.deepEqual(world.alerts.violations, []);
  });

  Deno.test(`[${api}] an alert recorded by upstream's Opsgenie plugin (its keys only) is reused and closed by id`, async () => {
    await using world = await startWorld(api);
    const id = request(world);
    using client = createOpsgenieClient(world.config.opsgenie);
    const alert = await client.createAlert({
      message: "m",
      alias: alertAlias(id),
      description: "",
      responders: [],
      tags: [],
    });
    using teleport = teleportClient(world);
    // Upstream's App-path keys, exactly as it writes them (spec §1.7).
    await teleport.updatePluginData(id, "opsgenie", {
      alert_id: alert.id,
      service_id: "",
      user: REQUESTER,
      roles: "editor",
      created: "1700000000",
      request_reason: "because of",
      reviews_count: "",
      resolution: "",
      resolve_reason: "",
    }, { alert_id: "" });
    await world.startPlugin();
    world.teleport.setState(id, "APPROVED", "okay");
    const data = await pluginData(world, id, (d) => d.resolution === "approved" && !d.lease);
    assert.equal(data.alert_id, alert.id);
    await eventually("closed", () => world.alerts.alerts()[0].status === "closed");
    assert.equal(world.alerts.alerts().length, 1);
    assert.deepEqual(world.alerts.alerts()[0].notes.map((n) => n.note), [
      "Access request has been approved\nReason: okay",
    ]);
    assert.ok(
      world.alerts.requests.some((r) => r.path.endsWith(`/alerts/${encodeURIComponent(alert.id)}/close`)),
    );
    assert.deepEqual(world.alerts.violations, []);
  });

  Deno.test(`[${api}] the fleet checks on-call and approves once per request, whatever events follow`, async () => {
    await using world = await startWorld(api);
    const approvers = world.addSchedule("Teleport Approval", [REQUESTER]);
    await world.startPlugin();
    await world.startPlugin();
    await world.startPlugin();
    const id = request(world, { "teleport.dev/schedules": [approvers] }, { approve: 2, deny: 2 });
    await eventually("plugin review", () => world.teleport.getRequest(id)?.reviews.length === 1);
    world.teleport.review(REVIEWER, id, "DENIED", "hmm");
    await pluginData(world, id, (d) => d.reviews_count === "2" && !d.lease);
    assert.equal(world.teleport.calls["SubmitAccessReview"], 1);
    assert.equal(world.alerts.requests.filter((r) => r.path.endsWith("/on-calls")).length, 1);
    assert.equal(world.alerts.alerts().length, 1);
    assert.deepEqual(world.alerts.violations, []);
  });
}
