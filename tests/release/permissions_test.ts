/** The release permission set (deno.json `permissions.plugin`): what it forbids, and that the plugin runs under it. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { V8_FLAGS } from "../../scripts/permission_flags.ts";
import {
  assertIncludes,
  assertReleaseProbe,
  closedPort,
  DENO,
  DENY_PROBE,
  PLUGIN_FLAGS,
  ROOT,
  run,
  runWithPluginPermissions,
  writeDeployFixture,
} from "./helpers.ts";

const RUNTIME_PROBE = join(ROOT, "tests/release/probes/runtime_probe.ts");

Deno.test("the generated flags are the narrow set: no run/ffi/sys/import, env and write listed", () => {
  const joined = PLUGIN_FLAGS.join(" ");
  for (const broad of ["--allow-run", "--allow-ffi", "--allow-sys", "--allow-import", "--allow-all", "-A"]) {
    assert(!PLUGIN_FLAGS.some((f) => f === broad || f.startsWith(`${broad}=`)), `${broad} in ${joined}`);
  }
  assert(
    PLUGIN_FLAGS.includes(
      "--allow-write=/var/log/teleport-pagerduty,/run/teleport-pagerduty.pid,/var/run/teleport-pagerduty.pid",
    ),
    joined,
  );
  assert(PLUGIN_FLAGS.some((f) => f.startsWith("--allow-env=") && f.includes("GRPC_NODE_VERBOSITY")), joined);
  assert(PLUGIN_FLAGS.includes("--deny-run") && PLUGIN_FLAGS.includes("--deny-ffi"), joined);
  assert(PLUGIN_FLAGS.includes("--no-prompt"), joined);
});

Deno.test("-P=plugin (deno.json) forbids subprocesses, ffi, sys, writes outside the log dir, other env vars", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const res = await run(DENO, ["run", "--quiet", "-P=plugin", DENY_PROBE, join(tmp, "outside.txt")], {
      cwd: ROOT,
    });
    assert.equal(res.code, 0, res.stderr);
    assertReleaseProbe(JSON.parse(res.stdout));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the explicit flags from scripts/permission_flags.ts behave like -P=plugin", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const res = await runWithPluginPermissions(DENY_PROBE, [join(tmp, "outside.txt")], { cwd: tmp });
    assert.equal(res.code, 0, res.stderr);
    assertReleaseProbe(JSON.parse(res.stdout));
    assert.equal(await Deno.stat(join(tmp, "outside.txt")).catch(() => null), null);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("config, credentials, API-key and CA files, grpc-js dial, fetch and file logging work under the set", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const port = closedPort();
    const log = join(tmp, "plugin.log");
    const config = await writeDeployFixture(tmp, {
      logOutput: log,
      teleportAddr: `localhost:${port}`, // a hostname: grpc-js resolves it with node:dns
      pagerdutyEndpoint: `https://localhost:${port}`,
    });
    // The only extra grant: the log file lives in the temp dir instead of /var/log/teleport-pagerduty.
    const extraFlags = [`--allow-write=/var/log/teleport-pagerduty,${log}`];
    const envs: Record<string, string>[] = [{}, {
      https_proxy: `http://127.0.0.1:${port}`,
      no_proxy: "example.com",
    }];
    for (const env of envs) {
      const res = await runWithPluginPermissions(RUNTIME_PROBE, [config], { extraFlags, env });
      assert.equal(res.code, 0, `${JSON.stringify(env)}\n${res.stdout}\n${res.stderr}`);
      assertIncludes(res.stdout, "probe ok");
      assert(!/NotCapable|Requires \w+ access/.test(res.stderr), res.stderr);
    }
    const logText = await Deno.readTextFile(log);
    assertIncludes(logText, "probe started");
    assertIncludes(logText, "teleport ping failed as expected");
    assertIncludes(logText, "pagerduty call failed as expected");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("`deno task start`'s command (deno run -P=plugin src/main.ts start) hits no permission error", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const port = closedPort();
    const config = await writeDeployFixture(tmp, {
      logOutput: "stderr",
      teleportAddr: `localhost:${port}`,
      pagerdutyEndpoint: `https://localhost:${port}`,
    });
    const child = new Deno.Command(DENO, {
      args: ["run", "--quiet", "-P=plugin", "src/main.ts", "start", "--config", config],
      cwd: ROOT,
      env: { DENO_NO_UPDATE_CHECK: "1", TELEPORT_PLUGIN_FAIL_FAST: "true" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Teleport is unreachable: the plugin exits on its own or keeps retrying; stop it after 5 s.
    const timer = setTimeout(() => child.kill("SIGTERM"), 5_000);
    const out = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(out.stderr);
    assert(!/NotCapable|Requires \w+ access/.test(stderr), stderr);
    assertIncludes(stderr, "Starting Teleport Access PagerDuty Plugin");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a log file outside /var/log/teleport-pagerduty is refused with a clear error", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const config = await writeDeployFixture(tmp, {
      logOutput: join(tmp, "plugin.log"),
      teleportAddr: `localhost:${closedPort()}`,
      pagerdutyEndpoint: "https://localhost:1",
    });
    const res = await run(DENO, ["run", "--quiet", "-P=plugin", "src/main.ts", "start", "--config", config], {
      cwd: ROOT,
    });
    assert.equal(res.code, 1, res.stderr);
    assertIncludes(res.stderr, "failed to open the log file");
    assertIncludes(res.stderr, "Requires write access");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the release's V8 heap settings are the same in the generated flags and the start tasks", () => {
  assert(PLUGIN_FLAGS.includes(V8_FLAGS), PLUGIN_FLAGS.join(" "));
  const tasks = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks as Record<string, string>;
  for (const name of ["start", "cli", "cli:opsgenie"]) {
    assert(tasks[name].split(" ").includes(V8_FLAGS), `task ${name}: ${tasks[name]}`);
  }
});
