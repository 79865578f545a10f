/**
 * scripts/release.sh (into a temp DIST_DIR): the tarball, its checksums and its flavour;
 * deploy/install --prefix (unprivileged, idempotent, --uninstall); the installed systemd unit
 * checked by systemd-analyze. The installed executable itself is exercised by installed_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { assertIncludes, buildRelease, type Release, ROOT, run, TARBALL, unpackRelease } from "./helpers.ts";

const NAME = "teleport-pagerduty";
const PIN = Object.fromEntries(
  Deno.readTextFileSync(join(ROOT, "scripts/deno-runtime.pin")).split("\n")
    .filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => l.split("=", 2) as [string, string]),
);

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o7777;
}

let release: Promise<Release> | undefined;
// The release is shared by the tests of this file: removed after the last one, passed or failed.
Deno.test.afterAll(async () => {
  if (release) await Deno.remove((await release).dist, { recursive: true });
});

/** Runs release.sh once for all tests of this file. */
function releaseOnce(): Promise<Release> {
  release ??= buildRelease();
  return release;
}

/** "launcher" or "compiled", from the release's own report. */
function flavourOf(r: Release): string {
  const m = r.result.stderr.match(/^release: executable: .* \((\w+) flavour: /m);
  assert(m, `release.sh did not report the flavour:\n${r.result.stderr}`);
  return m[1];
}

Deno.test("release.sh builds the bundle, the tarball and SHA256SUMS, reports the flavour, leaves the tree clean", async () => {
  const versionBefore = await Deno.readTextFile(join(ROOT, "src/version.ts"));
  const r = await releaseOnce();
  const { dist, result } = r;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    await Deno.readTextFile(join(ROOT, "src/version.ts")),
    versionBefore,
    "src/version.ts changed",
  );
  assert.ok(await exists(join(dist, "teleport-pagerduty.bundle.js")));
  assert.ok(await exists(join(dist, TARBALL)), result.stderr);

  const flavour = flavourOf(r);
  assert.ok(["launcher", "compiled"].includes(flavour), flavour);
  assertIncludes(result.stderr, `release: tarball: ${join(dist, TARBALL)} (${flavour} flavour)`);
  const denortLines = result.stderr.split("\n").filter((l) => l.includes("denort"));
  if (flavour === "compiled") {
    assert.equal(denortLines.length, 0, result.stderr);
  } else {
    // denort cannot be had here: exactly one clear line about it, then the launcher.
    assert.equal(denortLines.length, 1, result.stderr);
    assertIncludes(denortLines[0], "building the launcher flavour instead");
    assertIncludes(
      result.stderr,
      `release: deno runtime: ${PIN.DENO_RUNTIME_PACKAGE}@${PIN.DENO_RUNTIME_VERSION} ` +
        `(package sha256 ${PIN.DENO_RUNTIME_TGZ_SHA256}, deno sha256 ${PIN.DENO_RUNTIME_BIN_SHA256})`,
    );
  }
  // The stamped version and flavour are in the executable (GIT_REF: the short commit, or "dev").
  assert.match(
    result.stderr,
    new RegExp(`\\(${flavour} flavour: ${NAME} v[\\d.]+ git:\\S+ deno \\S+ \\(${flavour}\\)\\)`),
  );

  // SHA256SUMS sits next to the tarball and verifies it.
  assert.match(
    await Deno.readTextFile(join(dist, "SHA256SUMS")),
    new RegExp(`^[0-9a-f]{64}  ${TARBALL}\\n$`),
  );
  const check = await run("sha256sum", ["-c", "SHA256SUMS"], { cwd: dist });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.equal(check.stdout, `${TARBALL}: OK\n`);
});

Deno.test("the tarball holds the executable, install, README, config, unit and, for the launcher, its runtime", async () => {
  const r = await releaseOnce();
  assert.equal(r.result.code, 0, r.result.stderr);
  const launcher = flavourOf(r) === "launcher";
  const list = await run("tar", ["-tzvf", join(r.dist, TARBALL)]);
  assert.equal(list.code, 0, list.stderr);
  const entries = new Map(
    list.stdout.trim().split("\n").map((line) => {
      const cols = line.split(/\s+/);
      return [cols[cols.length - 1], cols[0]] as const;
    }),
  );
  const runtime = [
    `${NAME}/lib/`,
    `${NAME}/lib/${NAME}/`,
    `${NAME}/lib/${NAME}/deno`,
    `${NAME}/lib/${NAME}/${NAME}.bundle.js`,
  ];
  const expected = [
    `${NAME}/`,
    `${NAME}/README.md`,
    `${NAME}/install`,
    `${NAME}/${NAME}`,
    `${NAME}/${NAME}.service`,
    `${NAME}/${NAME}.toml`,
    ...(launcher ? runtime : []),
  ].sort();
  assert.deepEqual([...entries.keys()].sort(), expected);
  assert.equal(entries.get(`${NAME}/install`), "-rwxr-xr-x");
  assert.equal(entries.get(`${NAME}/${NAME}`), "-rwxr-xr-x");

  const tmp = await Deno.makeTempDir({ prefix: "tp-tarball-" });
  try {
    const tree = await unpackRelease(r.dist, tmp);
    assert.equal(await Deno.readTextFile(join(tree, `${NAME}.toml`)), EXAMPLE_CONFIG);
    const unit = await Deno.readTextFile(join(tree, `${NAME}.service`));
    assert.doesNotMatch(unit, /@[A-Z_]+@/, "unfilled placeholder in the unit");
    for (
      const line of [
        `ExecStart=/usr/local/bin/${NAME} start --config=/etc/${NAME}.toml`,
        "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=always",
        `User=${NAME}`,
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        `ReadWritePaths=/var/lib/teleport/plugins/pagerduty /var/log/${NAME}`,
      ]
    ) assert.ok(unit.split("\n").includes(line), `unit lacks ${line}`);
    if (launcher) {
      const sum = await run("sha256sum", [join(tree, "lib", NAME, "deno")]);
      assert.equal(
        sum.stdout.split(" ")[0],
        PIN.DENO_RUNTIME_BIN_SHA256,
        "the shipped deno is not the pinned one",
      );
      assert.equal(
        await Deno.readTextFile(join(tree, "lib", NAME, `${NAME}.bundle.js`)),
        await Deno.readTextFile(join(r.dist, `${NAME}.bundle.js`)),
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Every path under `dir` with type, mode, size and mtime: equal snapshots mean nothing was touched. */
async function snapshot(dir: string): Promise<string[]> {
  const res = await run("find", [dir, "-printf", "%P %y %m %s %T@\n"]);
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.trim().split("\n").sort();
}

/**
 * Runs `sh install args…`: as root, drops to `nobody` with setpriv so that the test shows
 * that --prefix needs no privileges (`dirs` are handed to nobody first); otherwise as is.
 */
async function installAs(tree: string, args: string[], dirs: string[]) {
  const asNobody = Deno.uid() === 0 && (await run("sh", ["-c", "command -v setpriv"])).code === 0;
  if (!asNobody) return await run("sh", [join(tree, "install"), ...args]);
  for (const d of dirs) await run("chown", ["-R", "65534:65534", d]);
  return await run("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "sh",
    join(tree, "install"),
    ...args,
  ]);
}

Deno.test("install --prefix: unprivileged, idempotent, keeps the config; --uninstall keeps config, credentials, data", async () => {
  const r = await releaseOnce();
  assert.equal(r.result.code, 0, r.result.stderr);
  const tmp = await Deno.makeTempDir({ prefix: "tp-install-" });
  try {
    await Deno.chmod(tmp, 0o755);
    const tree = await unpackRelease(r.dist, tmp);
    const prefix = join(tmp, "prefix");
    await Deno.mkdir(prefix);
    const first = await installAs(tree, ["--prefix", prefix], [prefix]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assertIncludes(first.stdout, "Next steps");

    const bin = join(prefix, "usr/local/bin", NAME);
    assert.equal(await mode(bin), 0o755);
    assert.equal(await Deno.readTextFile(bin), await Deno.readTextFile(join(tree, NAME)));
    const launcher = await exists(join(tree, "lib"));
    if (launcher) {
      for (const f of ["deno", `${NAME}.bundle.js`]) {
        assert.equal(
          (await run("cmp", [join(tree, "lib", NAME, f), join(prefix, "usr/local/lib", NAME, f)])).code,
          0,
          `${f} not installed`,
        );
      }
    }
    const data = join(prefix, "var/lib/teleport/plugins/pagerduty");
    assert.equal(await mode(data), 0o700);
    assert.equal(await mode(join(prefix, "var/log", NAME)), 0o750);
    const unit = join(prefix, "etc/systemd/system", `${NAME}.service`);
    assert.equal(await Deno.readTextFile(unit), await Deno.readTextFile(join(tree, `${NAME}.service`)));
    const config = join(prefix, "etc", `${NAME}.toml`);
    assert.equal(await Deno.readTextFile(config), EXAMPLE_CONFIG);
    assert.equal(await mode(config), 0o640);

    // A second run changes nothing and says so.
    const before = await snapshot(prefix);
    const second = await installAs(tree, [`--prefix=${prefix}`], []);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assertIncludes(second.stdout, "nothing to change");
    assertIncludes(second.stdout, "kept the existing");
    assert.deepEqual(await snapshot(prefix), before);

    // The operator's config is never overwritten; a changed executable is replaced.
    await Deno.writeTextFile(config, "# edited by the operator\n");
    await Deno.writeTextFile(bin, "#!/bin/sh\n# stale\n");
    const third = await installAs(tree, ["--prefix", prefix], []);
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.match(third.stdout, new RegExp(`^  installed ${bin}$`, "m"));
    assert.equal(third.stdout.match(/^ {2}(installed|created|set|removed) /gm)?.length, 1, third.stdout);
    assert.equal(await Deno.readTextFile(config), "# edited by the operator\n");
    assert.equal(await Deno.readTextFile(bin), await Deno.readTextFile(join(tree, NAME)));

    // Uninstall: executable, runtime and unit go; config, credentials, data and logs stay.
    await Deno.writeTextFile(join(data, "auth.key"), "secret\n", { mode: 0o600 });
    await Deno.writeTextFile(join(prefix, "var/log", NAME, "plugin.log"), "log\n");
    const un = await installAs(tree, ["--prefix", prefix, "--uninstall"], [prefix]);
    assert.equal(un.code, 0, un.stdout + un.stderr);
    for (const gone of [bin, unit, join(prefix, "usr/local/lib", NAME)]) {
      assert.ok(!(await exists(gone)), gone);
    }
    assert.equal(await Deno.readTextFile(config), "# edited by the operator\n");
    assert.equal(await Deno.readTextFile(join(data, "auth.key")), "secret\n");
    assert.ok(await exists(join(prefix, "var/log", NAME, "plugin.log")));
    assertIncludes(un.stdout, `Kept (remove them yourself if you no longer need them): the config ${config}`);
    const again = await installAs(tree, ["--prefix", prefix, "--uninstall"], []);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assertIncludes(again.stdout, "nothing to remove");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the installed systemd unit passes systemd-analyze verify without a warning", async (t) => {
  if ((await run("sh", ["-c", "command -v systemd-analyze"])).code !== 0) {
    console.log(
      "SKIPPED: systemd-analyze is not installed (apt-get install systemd); the unit was not verified",
    );
    return;
  }
  const r = await releaseOnce();
  assert.equal(r.result.code, 0, r.result.stderr);
  const tmp = await Deno.makeTempDir({ prefix: "tp-unit-" });
  try {
    const tree = await unpackRelease(r.dist, tmp);
    const prefix = join(tmp, "prefix");
    const installed = await run("sh", [join(tree, "install"), "--prefix", prefix]);
    assert.equal(installed.code, 0, installed.stdout + installed.stderr);
    // verify checks that ExecStart exists: the one change is the executable's path, pointed at
    // the installed copy (everything else is verified as installed).
    const unitText = await Deno.readTextFile(join(prefix, "etc/systemd/system", `${NAME}.service`));
    const unit = join(prefix, `${NAME}.service`);
    const rewritten = unitText.replace(
      `ExecStart=/usr/local/bin/${NAME} `,
      `ExecStart=${prefix}/usr/local/bin/${NAME} `,
    );
    assert.notEqual(rewritten, unitText);
    await Deno.writeTextFile(unit, rewritten);
    const res = await run("systemd-analyze", ["verify", unit]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.equal((res.stdout + res.stderr).trim(), "", "systemd-analyze verify warned"); // unknown keys only warn

    await t.step("exposure score (printed for the README, not asserted)", async () => {
      const sec = await run("systemd-analyze", ["security", "--offline=true", unit]);
      const line = (sec.stdout + sec.stderr).split("\n").find((l) => l.includes("Overall exposure level"));
      console.log(line ?? `systemd-analyze security printed no score:\n${sec.stdout}${sec.stderr}`);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("install without --prefix refuses to run as non-root", async () => {
  const setpriv = await run("sh", ["-c", "command -v setpriv"]);
  if (setpriv.code !== 0 || Deno.uid() !== 0) {
    console.log("SKIPPED: needs root and setpriv to try install as another user");
    return;
  }
  const res = await run("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "sh",
    join(ROOT, "deploy/install"),
  ]);
  assert.equal(res.code, 1);
  assert.equal(res.stderr.trim(), "ERROR: You must be root (or install under a directory with --prefix DIR)");
  assert.equal(res.stdout, "");
});
