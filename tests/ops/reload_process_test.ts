/**
 * SIGHUP through a real plugin process: the API key file changes, the PagerDuty
 * account accepts only the new key, and after the reload the next incident is
 * created with it. An invalid file keeps the running configuration.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { eventually, startWorld } from "../../src/doubles/world.ts";
import { DENO, PLUGIN_FLAGS, ROOT, spawnProcess, worldConfig } from "../release/helpers.ts";

Deno.test("SIGHUP re-reads the API key file: the next PagerDuty call carries the new key", async () => {
  await using world = await startWorld();
  world.pagerduty.addService({ name: "Teleport Notifications" });
  const dir = await Deno.makeTempDir({ prefix: "tp-reload-" });
  const plugin = spawnProcess(DENO, [
    "run",
    ...PLUGIN_FLAGS,
    "src/main.ts",
    "start",
    "-c",
    join(dir, "p.toml"),
  ], {
    cwd: ROOT,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  });
  try {
    await Deno.writeTextFile(join(dir, "p.toml"), await worldConfig(EXAMPLE_CONFIG, world, dir), {
      mode: 0o600,
    });
    const keyFile = join(dir, "pagerduty_api_key");
    const incidentFor = async (id: string) =>
      await eventually(`incident of ${id}`, () => {
        if (plugin.stderr().includes("Terminating")) throw new Error(plugin.stderr());
        return world.pagerduty.incidents().find((i) => i.incidentKey === `teleport-access-request/${id}`);
      }, 30_000);
    const request = () =>
      world.teleport.createRequest({
        user: "alice@example.com",
        roles: ["editor"],
        systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications"] },
      });
    const authOfCreate = (incidentKey: string) =>
      world.pagerduty.requests.find((r) =>
        r.method === "POST" && r.path === "/incidents" && r.status === 201 &&
        (r.body as { incident?: { incident_key?: string } })?.incident?.incident_key === incidentKey
      )?.headers.get("authorization");

    await eventually("ready", () => plugin.stderr().includes("Plugin is ready"), 30_000);
    const before = await incidentFor(request());
    assert.equal(authOfCreate(before.incidentKey!), `Token token=${world.pagerduty.apiKey}`);

    // An invalid file first: the old configuration keeps running.
    const good = await Deno.readTextFile(join(dir, "p.toml"));
    await Deno.writeTextFile(join(dir, "p.toml"), good + "\n[pagerduty]\nbogus = \n");
    plugin.child.kill("SIGHUP");
    await eventually(
      "the invalid file refused",
      () => /p\.toml:\d+/.test(plugin.stderr().split("SIGHUP").at(-1)!),
    );
    await Deno.writeTextFile(join(dir, "p.toml"), good);

    const rotated = "u+ROTATED_pd_api_key_4567";
    await Deno.writeTextFile(keyFile, rotated + "\n", { mode: 0o600 });
    world.pagerduty.rotateApiKey(rotated);
    plugin.child.kill("SIGHUP");
    await eventually("reloaded", () => plugin.stderr().includes("restarting the controller"), 30_000);
    const after = await incidentFor(request());
    assert.equal(authOfCreate(after.incidentKey!), `Token token=${rotated}`);
    assert.ok(!plugin.stderr().includes(rotated), "the key never reaches the log");
  } finally {
    await plugin.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
