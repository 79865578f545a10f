/** scripts/release.sh (into a temp DIST_DIR) and deploy/install --prefix. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { assertIncludes, ROOT, run, type RunResult } from "./helpers.ts";

const VERSION: string = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version;
const TARBALL = `teleport-access-pagerduty-v${VERSION}-linux-amd64-bin.tar.gz`;
const NAME = "teleport-pagerduty";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

interface Release {
  dist: string;
  result: RunResult;
  binaryBuilt: boolean;
}

let release: Promise<Release> | undefined;
// The release is shared by the tests of this file: removed after the last one, passed or failed.
Deno.test.afterAll(async () => {
  if (release) await Deno.remove((await release).dist, { recursive: true });
});

/** Runs release.sh once for all tests of this file. */
function releaseOnce(): Promise<Release> {
  release ??= (async () => {
    const dist = await Deno.makeTempDir({ prefix: "tp-release-" });
    const result = await run("bash", [join(ROOT, "scripts/release.sh")], {
      cwd: ROOT,
      env: { DIST_DIR: dist },
    });
    return { dist, result, binaryBuilt: await exists(join(dist, NAME, NAME)) };
  })();
  return release;
}

Deno.test("release.sh builds the bundle and the tarball, and leaves the tree clean", async () => {
  const versionBefore = await Deno.readTextFile(join(ROOT, "src/version.ts"));
  const { dist, result, binaryBuilt } = await releaseOnce();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    await Deno.readTextFile(join(ROOT, "src/version.ts")),
    versionBefore,
    "src/version.ts changed",
  );
  assert.ok(await exists(join(dist, "teleport-pagerduty.bundle.js")));
  assert.ok(await exists(join(dist, TARBALL)), result.stderr);
  const denortLines = result.stderr.split("\n").filter((l) => l.includes("denort"));
  if (binaryBuilt) {
    assert.equal(denortLines.length, 0, result.stderr);
  } else {
    // denort cannot be downloaded here: exactly one clear line about it.
    assert.equal(denortLines.length, 1, result.stderr);
    assertIncludes(denortLines[0], "release: deno compile needs the denort runtime");
  }
  // The stamped version is in the bundle (GIT_REF: the short commit, or "dev" outside git).
  assertIncludes(result.stderr, `(teleport-pagerduty v${VERSION} git:`);
});

Deno.test("the tarball holds teleport-pagerduty/{binary,install,README.md,toml,service}", async () => {
  const { dist, result, binaryBuilt } = await releaseOnce();
  assert.equal(result.code, 0, result.stderr);
  const list = await run("tar", ["-tzvf", join(dist, TARBALL)]);
  assert.equal(list.code, 0, list.stderr);
  const entries = new Map(
    list.stdout.trim().split("\n").map((line) => {
      const cols = line.split(/\s+/);
      return [cols[cols.length - 1], cols[0]] as const;
    }),
  );
  const expected = [
    `${NAME}/`,
    `${NAME}/README.md`,
    `${NAME}/install`,
    `${NAME}/${NAME}.service`,
    `${NAME}/${NAME}.toml`,
    ...(binaryBuilt ? [`${NAME}/${NAME}`] : []),
  ].sort();
  assert.deepEqual([...entries.keys()].sort(), expected);
  assert.equal(entries.get(`${NAME}/install`), "-rwxr-xr-x");
  if (binaryBuilt) assert.equal(entries.get(`${NAME}/${NAME}`), "-rwxr-xr-x");

  const out = join(dist, "extract");
  await Deno.mkdir(out);
  assert.equal((await run("tar", ["-xzf", join(dist, TARBALL), "-C", out])).code, 0);
  assert.equal(await Deno.readTextFile(join(out, NAME, `${NAME}.toml`)), EXAMPLE_CONFIG);
  assert.equal(
    await Deno.readTextFile(join(out, NAME, `${NAME}.service`)),
    await Deno.readTextFile(join(ROOT, "deploy", `${NAME}.service`)),
  );
});

/**
 * The extracted tarball, with a stand-in binary when denort was unavailable: the path of its
 * `teleport-pagerduty/` folder inside a new temporary directory (remove `join(tree, "..")`).
 */
async function installableTree(): Promise<string> {
  const { dist, result } = await releaseOnce();
  assert.equal(result.code, 0, result.stderr);
  const dir = await Deno.makeTempDir({ prefix: "tp-tree-" });
  assert.equal((await run("tar", ["-xzf", join(dist, TARBALL), "-C", dir])).code, 0);
  const binary = join(dir, NAME, NAME);
  if (!(await exists(binary))) {
    await Deno.writeTextFile(binary, `#!/bin/sh\necho "${NAME} v${VERSION} (stand-in)"\n`, { mode: 0o755 });
  }
  return join(dir, NAME);
}

Deno.test("install --prefix installs the binary, unit, directories and config; reinstall keeps the config", async () => {
  const tree = await installableTree();
  const prefix = await Deno.makeTempDir({ prefix: "tp-prefix-" });
  try {
    const first = await run("sh", [join(tree, "install"), "--prefix", prefix]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assertIncludes(first.stdout, "Next steps");

    const bin = join(prefix, "usr/local/bin", NAME);
    assert.equal(await mode(bin), 0o755);
    assert.equal(await Deno.readTextFile(bin), await Deno.readTextFile(join(tree, NAME)));
    assert.equal(await mode(join(prefix, "var/lib/teleport/plugins/pagerduty")), 0o700);
    assert.ok((await Deno.stat(join(prefix, "var/log", NAME))).isDirectory);
    const unit = join(prefix, "etc/systemd/system", `${NAME}.service`);
    assert.equal(await Deno.readTextFile(unit), await Deno.readTextFile(join(tree, `${NAME}.service`)));
    const config = join(prefix, "etc", `${NAME}.toml`);
    assert.equal(await Deno.readTextFile(config), EXAMPLE_CONFIG);
    assert.equal(await mode(config), 0o640);

    // Reinstall: the operator's config is never overwritten; the binary is replaced.
    await Deno.writeTextFile(config, "# edited by the operator\n");
    const second = await run("sh", [join(tree, "install"), `--prefix=${prefix}`]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assertIncludes(second.stdout, "kept the existing");
    assert.equal(await Deno.readTextFile(config), "# edited by the operator\n");
    assert.equal(await mode(bin), 0o755);
  } finally {
    await Deno.remove(prefix, { recursive: true });
    await Deno.remove(join(tree, ".."), { recursive: true });
  }
});

Deno.test("the systemd unit passes systemd-analyze verify (skipped when systemd-analyze is absent)", async () => {
  const analyze = await run("sh", ["-c", "command -v systemd-analyze"]);
  if (analyze.code !== 0) {
    console.log("systemd-analyze not installed: skipping the unit verification");
    return;
  }
  const tree = await installableTree();
  const prefix = await Deno.makeTempDir({ prefix: "tp-unit-" });
  try {
    assert.equal((await run("sh", [join(tree, "install"), "--prefix", prefix])).code, 0);
    const bin = join(prefix, "usr/local/bin", NAME);
    const unitText = await Deno.readTextFile(join(prefix, "etc/systemd/system", `${NAME}.service`));
    for (
      const line of [
        `ExecStart=/usr/local/bin/${NAME} start --config=/etc/${NAME}.toml`,
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=always",
        "RestartSec=5",
        `User=${NAME}`,
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        `ReadWritePaths=/var/lib/teleport/plugins/pagerduty /var/log/${NAME}`,
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "Environment=DENO_NO_UPDATE_CHECK=1",
      ]
    ) assert.ok(unitText.split("\n").includes(line), `unit lacks ${line}`);
    // verify checks that ExecStart exists: point it at the installed copy.
    const unit = join(prefix, `${NAME}.service`);
    await Deno.writeTextFile(unit, unitText.replace(`/usr/local/bin/${NAME}`, bin));
    const res = await run("systemd-analyze", ["verify", unit]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stderr.trim(), "", res.stderr); // no unknown or ignored directives
  } finally {
    await Deno.remove(prefix, { recursive: true });
    await Deno.remove(join(tree, ".."), { recursive: true });
  }
});

Deno.test("install refuses to run as non-root", async () => {
  const setpriv = await run("sh", ["-c", "command -v setpriv"]);
  if (setpriv.code !== 0 || Deno.uid() !== 0) {
    console.log("needs root and setpriv: skipping");
    return;
  }
  const tree = await installableTree();
  try {
    await Deno.chmod(join(tree, ".."), 0o755);
    const res = await run("setpriv", [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "sh",
      join(tree, "install"),
      "--prefix",
      "/nonexistent",
    ]);
    assert.equal(res.code, 1);
    assert.equal(res.stdout.trim(), "ERROR: You must be root");
  } finally {
    await Deno.remove(join(tree, ".."), { recursive: true });
  }
});
