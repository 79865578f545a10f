/**
 * PROGRAM=opsgenie scripts/release.sh: teleport-opsgenie's tarball on the same path as
 * teleport-pagerduty's, with its own executable, install, unit and example config.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { OPSGENIE_EXAMPLE_CONFIG } from "../../src/config/opsgenie_example.ts";
import { buildRelease, ROOT, run } from "./helpers.ts";

const NAME = "teleport-opsgenie";
const VERSION = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version;
const TARBALL = `teleport-access-opsgenie-v${VERSION}-linux-amd64-bin.tar.gz`;

Deno.test("release.sh with PROGRAM=opsgenie builds teleport-opsgenie's tarball, and its executable runs", async () => {
  const release = await buildRelease({ PROGRAM: "opsgenie" });
  try {
    assert.equal(release.result.code, 0, release.result.stderr);
    const listing = await run("tar", ["-tzf", join(release.dist, TARBALL)]);
    assert.equal(listing.code, 0, listing.stderr);
    for (const file of ["install", "README.md", NAME, `${NAME}.toml`, `${NAME}.service`]) {
      assert.ok(listing.stdout.split("\n").includes(`${NAME}/${file}`), `${file} in the tarball`);
    }
    const unpacked = join(release.dist, "unpacked");
    await Deno.mkdir(unpacked);
    assert.equal((await run("tar", ["-xzf", join(release.dist, TARBALL), "-C", unpacked])).code, 0);
    const dir = join(unpacked, NAME);
    assert.equal(await Deno.readTextFile(join(dir, `${NAME}.toml`)), OPSGENIE_EXAMPLE_CONFIG);
    const unit = await Deno.readTextFile(join(dir, `${NAME}.service`));
    assert.match(
      unit,
      /^ExecStart=\/usr\/local\/bin\/teleport-opsgenie start --config=\/etc\/teleport-opsgenie\.toml$/m,
    );
    assert.match(await Deno.readTextFile(join(dir, "install")), /^PROGRAM=opsgenie$/m);
    const version = await run(join(dir, NAME), ["version"], { cwd: unpacked, clearEnv: true });
    assert.equal(version.code, 0, version.stderr);
    assert.match(
      version.stdout,
      new RegExp(
        `^teleport-opsgenie v${
          VERSION.replaceAll(".", "\\.")
        } git:\\S+ deno \\S+ \\((launcher|compiled)\\)\\n$`,
      ),
    );
    assert.match(await Deno.readTextFile(join(release.dist, "SHA256SUMS")), new RegExp(`  ${TARBALL}$`, "m"));
  } finally {
    await release.cleanup();
  }
});
