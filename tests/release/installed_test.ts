/**
 * End to end, the way an operator gets the plugin: `deno task release`, the tarball unpacked
 * into an empty directory, `./install --prefix <tmp>`, then the INSTALLED executable run
 * with the installed example config edited to point at the Teleport and PagerDuty doubles
 * (living in this process; the plugin is a child process), under `env -i` (no PATH, no HOME):
 * nothing outside the install tree is needed. For the launcher flavour, also: a hostile
 * environment, a hostile deno.json/package.json/.npmrc in the working directory and unparsable
 * ones above the installed files change nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { startWorld } from "../../src/doubles/world.ts";
import {
  assertIncidentFlow,
  assertReleaseProbe,
  buildRelease,
  DENO,
  DENY_PROBE,
  type Release,
  run,
  spawnProcess,
  unpackRelease,
  worldConfig,
} from "./helpers.ts";

const NAME = "teleport-pagerduty";

interface Installed {
  release: Release;
  root: string;
  prefix: string;
  bin: string;
  flavour: string;
}

let installed: Promise<Installed> | undefined;
/** Builds the release, unpacks it into an empty directory and installs it under a prefix, once. */
function installOnce(): Promise<Installed> {
  installed ??= (async () => {
    const release = await buildRelease();
    assert.equal(release.result.code, 0, release.result.stderr);
    const flavour = release.result.stderr.match(/^release: executable: .* \((\w+) flavour: /m)?.[1] ?? "?";
    const root = await Deno.makeTempDir({ prefix: "tp-installed-" });
    const tree = await unpackRelease(release.dist, root);
    const prefix = join(root, "prefix");
    const res = await run("sh", [join(tree, "install"), "--prefix", prefix]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    // The unpacked tarball goes away: the installed copy must stand on its own.
    await Deno.remove(join(tree, ".."), { recursive: true });
    return { release, root, prefix, bin: join(prefix, "usr/local/bin", NAME), flavour };
  })();
  return installed;
}

/** A new empty directory to run from. */
async function emptyDir(root: string): Promise<string> {
  return await Deno.makeTempDir({ dir: root, prefix: "cwd-" });
}

Deno.test("the installed executable runs `version` and `configure` under env -i from an empty directory", async () => {
  const it = await installOnce();
  const cwd = await emptyDir(it.root);
  const version = await run(it.bin, ["version"], { cwd, clearEnv: true, env: {} });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^${NAME} v[\\d.]+ git:\\S+ deno [\\d.]+ \\(${it.flavour}\\)\\n$`));
  assert.equal(version.stderr, "");
  const configure = await run(it.bin, ["configure"], { cwd, clearEnv: true, env: {} });
  assert.equal(configure.code, 0, configure.stderr);
  assert.equal(configure.stdout, EXAMPLE_CONFIG);
  assert.equal(configure.stdout, await Deno.readTextFile(join(it.prefix, "etc", `${NAME}.toml`)));
  assert.deepEqual([...Deno.readDirSync(cwd)], [], "something was written to the working directory");
});

Deno.test("the installed executable, under env -i with the installed config edited, serves the incident flow", async () => {
  const it = await installOnce();
  const cwd = await emptyDir(it.root);
  const world = await startWorld();
  const config = join(it.prefix, "etc", `${NAME}.toml`);
  await Deno.writeTextFile(config, await worldConfig(await Deno.readTextFile(config), world, cwd));
  const plugin = spawnProcess(it.bin, ["start", "--config", config], { cwd, env: {} });
  try {
    await assertIncidentFlow(world, plugin, "installed release test");
  } finally {
    await plugin.kill();
    await world[Symbol.asyncDispose]();
  }
});

/** Counts TCP connections to a loopback port: anything that tries to fetch from it. */
function connectionCounter(): { url: string; port: number; count(): number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let count = 0;
  (async () => {
    for await (const conn of listener) {
      count++;
      conn.close();
    }
  })().catch(() => {});
  const port = listener.addr.port;
  return { url: `http://127.0.0.1:${port}`, port, count: () => count, close: () => listener.close() };
}

/**
 * A working directory and environment that would widen permissions, load code or fetch
 * something if the launcher let them through; `traces()` lists what they left behind.
 */
async function hostileSetup(root: string, fetchUrl: string) {
  const cwd = await emptyDir(root);
  const traps = await Deno.makeTempDir({ dir: root, prefix: "traps-" });
  const all = {
    read: true,
    write: true,
    net: true,
    env: true,
    run: true,
    ffi: true,
    sys: true,
    import: true,
  };
  await Deno.writeTextFile(
    join(cwd, "deno.json"),
    JSON.stringify({
      permissions: { default: all, plugin: all },
      imports: { "commander": `${fetchUrl}/commander.js`, "smol-toml": "npm:left-pad@1.3.0" },
      nodeModulesDir: "auto",
      unstable: ["ffi", "sloppy-imports"],
      lock: { path: "deno.lock", frozen: true },
      compilerOptions: { jsx: "react" },
    }),
  );
  await Deno.writeTextFile(join(cwd, "deno.lock"), "{ not json");
  await Deno.writeTextFile(
    join(cwd, "package.json"),
    JSON.stringify({ type: "commonjs", dependencies: { x: "1" } }),
  );
  await Deno.writeTextFile(join(cwd, ".npmrc"), `registry=${fetchUrl}/\n`);
  await Deno.mkdir(join(cwd, "node_modules"));
  const evilJs = join(traps, "evil.cjs");
  await Deno.writeTextFile(
    evilJs,
    `require("fs").writeFileSync(${JSON.stringify(join(traps, "pwned"))}, "x");\n`,
  );
  const cwdBefore = [...Deno.readDirSync(cwd)].map((e) => e.name).sort();
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: join(traps, "home"),
    XDG_CACHE_HOME: join(traps, "xdg"),
    DENO_DIR: join(traps, "deno-dir"),
    DENO_AUTH_TOKENS: "secret-token@127.0.0.1",
    DENO_CERT: join(traps, "no-such-ca.pem"),
    DENO_TLS_CA_STORE: "system,no-such-store",
    DENO_V8_FLAGS: "--no-such-v8-flag",
    DENO_AUDIT_PERMISSIONS: join(traps, "audit.jsonl"),
    DENO_TRACE_PERMISSIONS: "1",
    DENO_COVERAGE_DIR: join(traps, "coverage"),
    DENO_NO_PACKAGE_JSON: "",
    DENO_FUTURE: "1",
    DENO_UNSTABLE_SLOPPY_IMPORTS: "1",
    NPM_CONFIG_REGISTRY: `${fetchUrl}/`,
    NODE_OPTIONS: `--require ${evilJs}`,
    NODE_EXTRA_CA_CERTS: join(traps, "no-such-ca.pem"),
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: fetchUrl,
    // (LD_PRELOAD is left out: the dynamic loader applies it to /bin/sh running the launcher
    // itself, before any line of it runs, and prints its complaint; deno never sees it.)
    LD_LIBRARY_PATH: traps,
    RUST_LOG: "trace",
    RUST_BACKTRACE: "full",
    // An allowed variable passes through (the deny probe reports its value).
    TELEPORT_PLUGIN_FAIL_FAST: "yes",
  };
  return {
    cwd,
    env,
    traces(): string[] {
      const found = [...Deno.readDirSync(traps)].map((e) => e.name).filter((n) => n !== "evil.cjs");
      const cwdNow = [...Deno.readDirSync(cwd)].map((e) => e.name).sort();
      if (JSON.stringify(cwdNow) !== JSON.stringify(cwdBefore)) {
        found.push(`cwd now holds ${cwdNow.join(",")}`);
      }
      if ([...Deno.readDirSync(join(cwd, "node_modules"))].length > 0) found.push("node_modules was filled");
      return found;
    },
  };
}

/**
 * Unparsable deno.json and package.json in `dir`: Deno 2 looks for a config from the main
 * module's directory upwards, so any one it discovered would stop it with a parse error.
 */
async function plantBrokenConfigs(dir: string): Promise<string[]> {
  const planted = [join(dir, "deno.json"), join(dir, "package.json")];
  for (const file of planted) await Deno.writeTextFile(file, "{ not json");
  return planted;
}

Deno.test("launcher: a hostile environment and hostile deno.json files (working dir, parents of the install) change nothing", async (t) => {
  const it = await installOnce();
  if (it.flavour !== "launcher") {
    console.log(`SKIPPED: the release is the ${it.flavour} flavour; this test covers the launcher`);
    return;
  }
  const fetches = connectionCounter();
  const planted = await plantBrokenConfigs(join(it.prefix, "usr/local"));
  try {
    const hostile = await hostileSetup(it.root, fetches.url);
    const clean = await emptyDir(it.root);

    await t.step(
      "version and configure print exactly what they print in a clean run, and nothing else",
      async () => {
        for (const args of [["version"], ["configure"]]) {
          const expected = await run(it.bin, args, { cwd: clean, clearEnv: true, env: {} });
          const got = await run(it.bin, args, { cwd: hostile.cwd, clearEnv: true, env: hostile.env });
          assert.equal(got.code, 0, got.stderr);
          assert.equal(got.stdout, expected.stdout);
          assert.equal(got.stderr, "", `${args[0]} printed on stderr`);
        }
      },
    );

    await t.step(
      "the release permissions are unchanged (the deny probe in place of the plugin)",
      async () => {
        // A copy of the installed tree whose bundle is the deny probe: the launcher's own flags and env.
        const probeTree = await Deno.makeTempDir({ dir: it.root, prefix: "probe-tree-" });
        const lib = join(probeTree, "usr/local/lib", NAME);
        await Deno.mkdir(join(probeTree, "usr/local/bin"), { recursive: true });
        await Deno.mkdir(lib, { recursive: true });
        await Deno.copyFile(it.bin, join(probeTree, "usr/local/bin", NAME));
        await plantBrokenConfigs(join(probeTree, "usr/local"));
        await Deno.symlink(join(it.prefix, "usr/local/lib", NAME, "deno"), join(lib, "deno"));
        const bundled = await run(DENO, [
          "bundle",
          "--quiet",
          "--platform",
          "deno",
          "-o",
          join(lib, `${NAME}.bundle.js`),
          DENY_PROBE,
        ]);
        assert.equal(bundled.code, 0, bundled.stderr);
        const outside = join(hostile.cwd, "outside.txt");
        const res = await run(join(probeTree, "usr/local/bin", NAME), [outside], {
          cwd: hostile.cwd,
          clearEnv: true,
          env: hostile.env,
        });
        assert.equal(res.code, 0, res.stderr);
        assert.equal(res.stderr, "");
        const results = JSON.parse(res.stdout);
        assertReleaseProbe(results);
        assert.equal(
          results["value of TELEPORT_PLUGIN_FAIL_FAST"],
          "yes",
          "an allowed variable did not pass",
        );
        assert.equal(await Deno.stat(outside).catch(() => null), null);
      },
    );

    await t.step("nothing was fetched, loaded or written", () => {
      assert.equal(fetches.count(), 0, "something connected to the fetch trap");
      assert.deepEqual(hostile.traces(), []);
    });
  } finally {
    fetches.close();
    for (const file of planted) await Deno.remove(file);
  }
});

Deno.test({
  name: "cleanup installed release",
  fn: async () => {
    if (!installed) return;
    const it = await installed;
    await Deno.remove(it.root, { recursive: true });
    await it.release.cleanup();
  },
});
