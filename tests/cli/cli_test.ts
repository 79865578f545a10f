import assert from "node:assert/strict";
import { filledExample } from "../config/helpers.ts";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
/** The same CLI with a stand-in plugin that waits for shutdown (no Teleport needed). */
const STUB_MAIN = new URL("./fixtures/stub_main.ts", import.meta.url).pathname;
const SECRET = "cli-SECRET-api-key-987654";
const decoder = new TextDecoder();

function command(args: string[], stdin: "piped" | "null" = "null", main = MAIN): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    // No --allow-env/--allow-net: commands other than `start` must not need them.
    args: ["run", "--allow-read", "--allow-write", main, ...args],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

async function run(args: string[], input?: string): Promise<Result> {
  const started = Date.now();
  const child = command(args, input === undefined ? "null" : "piped").spawn();
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
    ms: Date.now() - started,
  };
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

Deno.test("version prints name, version, git ref, Deno version and the build flavour", async () => {
  const r = await run(["version"]);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    new RegExp(
      `^teleport-pagerduty v\\d+\\.\\d+\\.\\d+\\S* git:\\S+ deno ${Deno.version.deno} \\(source\\)\\n$`,
    ),
  );
});

Deno.test("unknown command, unknown flag, missing flag value exit 1 with a message on stderr", async () => {
  const cases: [string[], RegExp][] = [
    [["nope"], /^teleport-pagerduty: error: unknown command 'nope'$/m],
    [["start", "--bogus"], /^teleport-pagerduty: error: unknown option '--bogus'$/m],
    [["start", "--config"], /argument missing/],
    [["version", "extra"], /too many arguments/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, re);
    assert.match(r.stderr, /run 'teleport-pagerduty help' for usage/);
  }
});

Deno.test("no command prints usage and exits 1; help exits 0", async () => {
  const none = await run([]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /Usage: teleport-pagerduty/);
  for (const args of [["help"], ["--help"], ["help", "start"], ["start", "--help"]]) {
    const r = await run(args);
    assert.equal(r.code, 0, args.join(" "));
    assert.match(r.stdout, /Usage: teleport-pagerduty/);
  }
  assert.match(
    (await run(["help", "start"])).stdout,
    /-c, --config <path>[\s\S]*\/etc\/teleport-pagerduty\.toml[\s\S]*-d, --debug/,
  );
});

Deno.test("configure prints the example configuration", async () => {
  const r = await run(["configure"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^# example teleport-pagerduty configuration TOML file\n\[teleport\]\n/);
  assert.match(r.stdout, /^addr = "example\.com:3025"$/m);
});

/** Expects a quick exit 1 with exactly one `teleport-pagerduty: error:` line. */
async function assertFatal(args: string[], input: string | undefined, re: RegExp): Promise<string> {
  const r = await run(args, input);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.ms < 2000, `took ${r.ms} ms`);
  const errLines = lines(r.stderr);
  assert.equal(errLines.length, 1, r.stderr);
  assert.match(errLines[0], /^teleport-pagerduty: error: /);
  assert.match(errLines[0], re);
  assert.ok(!r.stderr.includes(SECRET));
  return errLines[0];
}

const CREDS = `[teleport]\nidentity = "/var/lib/teleport/plugins/pagerduty/auth_id"\n`;

Deno.test("start fails fast with one clear line on configuration errors", async () => {
  await assertFatal(
    ["start", "-c", "/nonexistent/pd.toml"],
    undefined,
    /\/nonexistent\/pd\.toml: cannot read configuration: file not found$/,
  );
  await assertFatal(
    ["start", "-c", "-"],
    `${CREDS}[pagerduty\napi_key = "${SECRET}"\n`,
    /<stdin>:3:\d+: invalid TOML: /,
  );
  await assertFatal(
    ["start", "--config", "-"],
    `${CREDS}[pagerduty]\nuser_email = "bot@example.com"\n`,
    /<stdin>:3: missing required value pagerduty\.api_key$/, // the line of [pagerduty]
  );
  await assertFatal(
    ["start", "-c", "-"],
    `${CREDS}[pagerduty]\napi_key = "${SECRET}"\nuser_email = "nope"\n`,
    /<stdin>:5: pagerduty\.user_email: must be an email address, got "nope"$/,
  );
});

Deno.test("--debug adds the stack trace to fatal errors", async () => {
  const r = await run(["start", "-d", "-c", "/nonexistent/pd.toml"]);
  assert.equal(r.code, 1);
  assert.ok(lines(r.stderr).length > 1);
  assert.match(r.stderr, /^teleport-pagerduty: error: .*\n(ConfigError|.*at )/);
});

/** Reads a child's stderr until `re` matches, returning what was read. */
async function waitForStderr(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  seen: { text: string },
  re: RegExp,
) {
  const deadline = Date.now() + 10_000;
  while (!re.test(seen.text)) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${re}; stderr so far:\n${seen.text}`);
    const { value, done } = await reader.read();
    assert.ok(!done, `stderr closed before ${re}; stderr:\n${seen.text}`);
    seen.text += decoder.decode(value);
  }
}

interface Started {
  child: Deno.ChildProcess;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  seen: { text: string };
}

/** Spawns `start`, feeds `config` on standard input and waits until the plugin is starting. */
async function startWithConfig(cmd: Deno.Command, config: string): Promise<Started> {
  const child = cmd.spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(config));
  await writer.close();
  const reader = child.stderr.getReader();
  const seen = { text: "" };
  await waitForStderr(reader, seen, /Starting Teleport Access PagerDuty Plugin/);
  return { child, reader, seen };
}

Deno.test("round trip (stub plugin): configure → fill credentials → start on stdin; SIGHUP survives, SIGTERM exits 0", async () => {
  const configured = await run(["configure"]);
  const config = filledExample(configured.stdout)
    .replace('api_key = "example-api-key"', `api_key = "${SECRET}"`)
    .replace('addr = "example.com:3025"', 'addr = "127.0.0.1:1"');

  const { child, reader, seen } = await startWithConfig(
    command(["start", "--config", "-"], "piped", STUB_MAIN),
    config,
  );

  child.kill("SIGHUP");
  await waitForStderr(
    reader,
    seen,
    /SIGHUP received: the configuration was read from standard input and cannot be re-read; still running/,
  );
  child.kill("SIGTERM");
  await waitForStderr(reader, seen, /Successfully shut down/);
  reader.releaseLock();
  const { code } = await child.output();
  assert.equal(code, 0);
  assert.doesNotMatch(seen.text, /ERROR|<stdin>/);
  assert.deepEqual(lines(seen.text).filter((l) => l.includes(" WARN ")).length, 1, "only the SIGHUP warning");
  assert.ok(!seen.text.includes(SECRET));
});

Deno.test("the real plugin starts from the filled example (config accepted) and fails on the missing credentials", async () => {
  const config = filledExample().replace('addr = "example.com:3025"', 'addr = "127.0.0.1:1"');
  const { child, reader, seen } = await startWithConfig(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-env", "--allow-net", MAIN, "start", "-c", "-"],
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }),
    config,
  );
  // Past configuration: whatever happens next is the plugin's business; stop it.
  try {
    child.kill("SIGTERM");
  } catch {
    // Already exited (e.g. the credential files do not exist).
  }
  reader.releaseLock();
  await child.output();
  assert.doesNotMatch(seen.text, /<stdin>/);
});

Deno.test("--pid-file (the upstream systemd unit's flag) writes the PID while running and removes it after", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pidFile = `${dir}/teleport-pagerduty.pid`;
    const config = filledExample((await run(["configure"])).stdout)
      .replace('api_key = "example-api-key"', `api_key = "${SECRET}"`);
    const { child, reader } = await startWithConfig(
      command(["start", "--config=-", `--pid-file=${pidFile}`], "piped", STUB_MAIN),
      config,
    );
    assert.equal(await Deno.readTextFile(pidFile), `${child.pid}\n`);
    child.kill("SIGTERM");
    reader.releaseLock();
    assert.equal((await child.output()).code, 0);
    await assert.rejects(Deno.stat(pidFile), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SIGHUP (stub plugin): a valid file is applied, an invalid one is rejected in one line naming file, line and key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const keyFile = `${dir}/api_key`;
    await Deno.writeTextFile(keyFile, "first-SECRET-key-123456\n", { mode: 0o600 });
    const path = `${dir}/plugin.toml`;
    const base = filledExample()
      .replace('api_key = "example-api-key"', `api_key = "${keyFile}"`)
      .replace('addr = "example.com:3025"', 'addr = "127.0.0.1:1"');
    await Deno.writeTextFile(path, base, { mode: 0o600 });
    const { child, reader, seen } = await startWithConfig(
      command(["start", "--config", path], "piped", STUB_MAIN),
      "",
    );
    try {
      // The key file is re-read: the plugin is handed the new key.
      await Deno.writeTextFile(keyFile, "second-SECRET-key-654321\n");
      await Deno.writeTextFile(path, base.replace("me@example.com", "bot@example.com"));
      child.kill("SIGHUP");
      await waitForStderr(reader, seen, /Configuration reloaded/);
      assert.match(
        seen.text,
        /Applied: user_email bot@example\.com, was me@example\.com; api key changed: true/,
      );

      // A wrong value: the previous configuration stays, one ERROR line says where.
      const broken = base.replace('user_email = "me@example.com"', 'user_email = "not an email"');
      await Deno.writeTextFile(path, broken);
      const line = broken.split("\n").findIndex((l) => l.startsWith("user_email")) + 1;
      child.kill("SIGHUP");
      await waitForStderr(reader, seen, /Configuration reload rejected/);
      const rejected = lines(seen.text).filter((l) => l.includes("Configuration reload rejected"));
      assert.equal(rejected.length, 1);
      assert.ok(
        rejected[0].includes(`${path}:${line}: pagerduty.user_email: must be an email address`),
        rejected[0],
      );
    } finally {
      child.kill("SIGTERM");
      await waitForStderr(reader, seen, /Successfully shut down/);
      reader.releaseLock();
      assert.equal((await child.output()).code, 0);
    }
    assert.ok(!seen.text.includes("SECRET"), "no API key in the log");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("review-setup without review.public_url says what is missing in one line and exits 1", async () => {
  const r = await run(["review-setup", "--config", "-"], filledExample());
  assert.equal(r.code, 1);
  assert.deepEqual(lines(r.stderr), [
    "teleport-pagerduty: error: review-setup needs review.public_url: the https URL at which PagerDuty reaches this plugin",
  ]);
  assert.equal(r.stdout, "");
});
