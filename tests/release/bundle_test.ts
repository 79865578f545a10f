/**
 * Self-containment: the `deno bundle --platform deno` output of src/main.ts runs with
 * only the deno binary, from an empty directory (no deno.json, no node_modules), with
 * an empty DENO_DIR and the release permission flags: `version`, `configure`, and the
 * whole incident flow against a Teleport double and a PagerDuty double living in the
 * test process (the bundle is a separate process, as in production).
 *
 * Subprocess and write denials under exactly these flags are covered by
 * permissions_test.ts (deny probe run with PLUGIN_FLAGS); here the bundled plugin
 * itself is shown to refuse a log file outside /var/log/teleport-pagerduty.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { VERSION } from "../../src/version.ts";
import { startWorld } from "../../src/doubles/world.ts";
import {
  assertIncidentFlow,
  assertIncludes,
  buildBundle,
  editConfig,
  runBundle,
  spawnBundle,
  worldConfig,
} from "./helpers.ts";

interface BundleEnv extends AsyncDisposable {
  bundle: string;
  cwd: string;
  denoDir: string;
}

/** Builds the bundle and copies it alone into an empty directory. */
async function setup(): Promise<BundleEnv> {
  const root = await Deno.makeTempDir({ prefix: "tp-bundle-" });
  const cleanup = () => Deno.remove(root, { recursive: true });
  try {
    const cwd = join(root, "run");
    const denoDir = join(root, "deno-dir");
    await Deno.mkdir(cwd);
    await Deno.mkdir(denoDir);
    const built = join(root, "teleport-pagerduty.bundle.js");
    await buildBundle(built);
    const bundle = join(cwd, "teleport-pagerduty.bundle.js");
    await Deno.copyFile(built, bundle);
    return { bundle, cwd, denoDir, [Symbol.asyncDispose]: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

Deno.test("the bundle runs `version` and `configure` from an empty directory with an empty DENO_DIR", async () => {
  await using env = await setup();
  assert.deepEqual([...Deno.readDirSync(env.cwd)].map((e) => e.name), ["teleport-pagerduty.bundle.js"]);
  const version = await runBundle(env.bundle, ["version"], env);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^teleport-pagerduty v${VERSION.replaceAll(".", "\\.")} `));

  const configure = await runBundle(env.bundle, ["configure"], env);
  assert.equal(configure.code, 0, configure.stderr);
  assert.equal(configure.stdout, EXAMPLE_CONFIG);

  // Nothing was fetched or installed next to the bundle.
  assert.deepEqual([...Deno.readDirSync(env.cwd)].map((e) => e.name), ["teleport-pagerduty.bundle.js"]);
});

/** The example config pointed at the world's doubles, written into `cwd`. */
async function writeWorldConfig(
  cwd: string,
  world: Awaited<ReturnType<typeof startWorld>>,
  logOutput = "stderr",
): Promise<string> {
  const config = join(cwd, "teleport-pagerduty.toml");
  const text = await worldConfig(EXAMPLE_CONFIG, world, cwd);
  await Deno.writeTextFile(config, editConfig(text, { output: logOutput }));
  return config;
}

Deno.test("the bundle, run like a release (empty dir and DENO_DIR, release flags), handles the incident flow", async () => {
  await using env = await setup();
  await using world = await startWorld({ proxyPublicAddr: "teleport.example.com:443" });
  await writeWorldConfig(env.cwd, world);
  const plugin = spawnBundle(env.bundle, ["start", "-c", "teleport-pagerduty.toml"], env);
  try {
    await assertIncidentFlow(world, plugin, "release test");
    // Nothing was fetched or installed next to the bundle.
    assert.deepEqual(
      [...Deno.readDirSync(env.cwd)].map((e) => e.name).sort(),
      ["pagerduty_api_key", "teleport-pagerduty.bundle.js", "teleport-pagerduty.toml"],
    );
  } finally {
    await plugin.kill();
  }
});

Deno.test("the bundle under the release flags refuses to write a log file outside /var/log/teleport-pagerduty", async () => {
  await using env = await setup();
  await using world = await startWorld();
  const log = join(env.cwd, "plugin.log");
  await writeWorldConfig(env.cwd, world, log);
  const res = await runBundle(env.bundle, ["start", "-c", "teleport-pagerduty.toml"], env);
  assert.equal(res.code, 1, res.stderr);
  assertIncludes(res.stderr, "failed to open the log file");
  assertIncludes(res.stderr, "Requires write access");
  assert.equal(await Deno.stat(log).catch(() => null), null, "the log file was created");
  assert.equal(world.teleport.watcherCount, 0);
});
