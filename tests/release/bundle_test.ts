/**
 * Self-containment: the `deno bundle --platform deno` output of src/main.ts runs with
 * only the deno binary, from an empty directory (no deno.json, no node_modules), with
 * an empty DENO_DIR and the release permission flags.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { VERSION } from "../../src/version.ts";
import { buildBundle, runBundle } from "./helpers.ts";

interface BundleEnv {
  bundle: string;
  cwd: string;
  denoDir: string;
  cleanup(): Promise<void>;
}

/** Builds the bundle and copies it alone into an empty directory. */
async function setup(): Promise<BundleEnv> {
  const root = await Deno.makeTempDir({ prefix: "tp-bundle-" });
  const cwd = join(root, "run");
  const denoDir = join(root, "deno-dir");
  await Deno.mkdir(cwd);
  await Deno.mkdir(denoDir);
  const built = join(root, "teleport-pagerduty.bundle.js");
  await buildBundle(built);
  const bundle = join(cwd, "teleport-pagerduty.bundle.js");
  await Deno.copyFile(built, bundle);
  return { bundle, cwd, denoDir, cleanup: () => Deno.remove(root, { recursive: true }) };
}

Deno.test("the bundle runs `version` and `configure` from an empty directory with an empty DENO_DIR", async () => {
  const env = await setup();
  try {
    assert.deepEqual([...Deno.readDirSync(env.cwd)].map((e) => e.name), ["teleport-pagerduty.bundle.js"]);
    const version = await runBundle(env.bundle, ["version"], env);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, new RegExp(`^teleport-pagerduty v${VERSION.replaceAll(".", "\\.")} `));

    const configure = await runBundle(env.bundle, ["configure"], env);
    assert.equal(configure.code, 0, configure.stderr);
    assert.equal(configure.stdout, EXAMPLE_CONFIG);

    // Nothing was fetched or installed next to the bundle.
    assert.deepEqual([...Deno.readDirSync(env.cwd)].map((e) => e.name), ["teleport-pagerduty.bundle.js"]);
  } finally {
    await env.cleanup();
  }
});
