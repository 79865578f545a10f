/**
 * The demo (`deno task demo`): run as a subprocess exactly as the task runs it, to
 * completion and with `--keep`; plus the missing-step report, in process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MissingStep, playStory, setUpDemo } from "../../src/demo/story.ts";
import { shutdownLogging } from "../../src/ops/logging.ts";
import { assertIncludes, DENO, ROOT, run } from "../release/helpers.ts";

const TASK: string = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks.demo;

/** The demo task split into its environment assignments and its `deno …` argv (it has no quoting). */
function taskCommand(): { env: Record<string, string>; args: string[] } {
  const words = TASK.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Za-z_]+=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split("=");
    env[name] = value.join("=");
  }
  assert.equal(words.shift(), "deno", TASK);
  return { env, args: words };
}

const pathExists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** The temporary directory the demo announces (and must remove). */
function announcedDir(stdout: string): string {
  const match = stdout.match(/temporary files \(credentials\) in (\S+)/);
  assert(match, stdout);
  return match[1];
}

/** Removes the demo's directory if a failed run left it behind (the assertions check that it did not). */
async function removeLeftovers(stdout: string): Promise<void> {
  const dir = stdout.match(/temporary files \(credentials\) in (\S+)/)?.[1];
  if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
}

Deno.test("the demo task's permissions are narrow: loopback only, no subprocess, ffi, sys or import", () => {
  const { args } = taskCommand();
  for (const broad of ["-A", "--allow-all", "--allow-run", "--allow-ffi", "--allow-sys", "--allow-import"]) {
    assert(!args.some((a) => a === broad || a.startsWith(`${broad}=`)), `${broad} in ${TASK}`);
  }
  assert(args.includes("--allow-net=127.0.0.1"), TASK);
  assert(args.includes("--allow-write=/tmp"), TASK);
  assert(args.some((a) => a.startsWith("--allow-env=")), TASK);
  for (const deny of ["--deny-run", "--deny-ffi", "--deny-sys", "--no-prompt"]) {
    assert(args.includes(deny), TASK);
  }
  assert.equal(args.at(-1), "src/demo/main.ts");
});

Deno.test("`deno task demo` plays the story to the end, prints the timeline, exits 0 and cleans up", async () => {
  const res = await run(DENO, ["task", "--quiet", "demo"], { cwd: ROOT });
  try {
    await assertStoryRun(res);
  } finally {
    await removeLeftovers(res.stdout);
  }
});

/** The completed demo's output: exit 0, the timeline, and its temporary directory gone. */
async function assertStoryRun(res: { code: number; stdout: string; stderr: string }): Promise<void> {
  assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
  const out = res.stdout;
  assert(!/NotCapable|Requires \w+ access/.test(res.stderr), res.stderr);

  // Every line of the timeline: elapsed seconds, then the side.
  const events = out.split("\n").filter((l) => /^\s*\d+\.\d\ds /.test(l));
  assert(events.length >= 12, out);
  for (const line of events) {
    assert.match(line, /^\s*\d+\.\d\ds (teleport|plugin→teleport|plugin→pagerduty|demo)\s/);
  }

  // Alice: request → incident → human approval → review note, resolution note, resolved.
  const alice = out.match(/teleport\s+alice@example\.com requested editor \(request (\w+)/);
  assert(alice, out);
  const aliceIncident = out.match(
    new RegExp(
      `plugin→pagerduty\\s+incident (\\w+) "Access request from alice@example\\.com" opened in Teleport Notifications for request ${
        alice[1]
      }`,
    ),
  );
  assert(aliceIncident, out);
  const a = aliceIncident[1];
  assertIncludes(out, `reviewer@example.com approved request ${alice[1]}`);
  assertIncludes(out, `note on ${a}: review by reviewer@example.com: APPROVED`);
  assertIncludes(out, `note on ${a}: resolution: approved`);
  assertIncludes(out, `incident ${a} resolved`);

  // Bob (on call): request → incident → the plugin's approval → its review note, resolution, resolved.
  const bob = out.match(/teleport\s+bob@example\.com requested demo-role \(request (\w+)/);
  assert(bob, out);
  const bobIncident = out.match(new RegExp(`incident (\\w+) "Access request from bob@example\\.com" opened`));
  assert(bobIncident, out);
  const b = bobIncident[1];
  assert.match(
    out,
    new RegExp(
      `plugin→teleport\\s+plugin approved request ${bob[1]}: "Access requested by user Bob.*on call`,
    ),
  );
  assertIncludes(out, `request ${bob[1]} is now APPROVED`);
  assertIncludes(out, `note on ${b}: review by plugin: APPROVED`);
  assertIncludes(out, `note on ${b}: resolution: approved`);
  assertIncludes(out, `incident ${b} resolved`);

  // In order: the incident before the notes, the notes before the resolve.
  const at = (part: string) => out.indexOf(part);
  assert(at(`incident ${a} "`) < at(`note on ${a}: review`));
  assert(at(`note on ${a}: resolution`) < at(`incident ${a} resolved`));
  assert(at(`incident ${a} resolved`) < at("bob@example.com requested"));

  assertIncludes(out, "all steps happened in");
  const dir = announcedDir(out);
  assertIncludes(out, `removed ${dir}`);
  assert.equal(await pathExists(dir), false, `${dir} left behind`);
}

Deno.test("`deno task demo --backend opsgenie` plays the same three acts with the Opsgenie double", async () => {
  const res = await run(DENO, ["task", "--quiet", "demo", "--backend", "opsgenie"], { cwd: ROOT });
  try {
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert(!/NotCapable|Requires \w+ access/.test(res.stderr), res.stderr);
    const out = res.stdout;
    assertIncludes(out, "between a Teleport double and an Opsgenie double");
    const events = out.split("\n").filter((l) => /^\s*\d+\.\d\ds /.test(l));
    for (const line of events) {
      assert.match(line, /^\s*\d+\.\d\ds (teleport|plugin→teleport|plugin→opsgenie|demo)\s/);
    }
    assert(!events.some((l) => l.includes("plugin→pagerduty")), out);
    const at = (part: string) => out.indexOf(part);

    /** One act: the request, its alert (to `schedule`), the notes after the approval, then the close. */
    const act = (user: string, role: string, schedule: string, approvedBy: RegExp): void => {
      const request = out.match(new RegExp(`teleport\\s+${user} requested ${role} \\(request (\\w+)`));
      assert(request, out);
      const alert = out.match(
        new RegExp(
          `plugin→opsgenie\\s+alert (#\\d+) "Access request from ${user}" created for schedule ${schedule} for request ${
            request[1]
          }`,
        ),
      );
      assert(alert, out);
      const a = alert[1];
      assert.match(out, new RegExp(`${approvedBy.source} request ${request[1]}`));
      assertIncludes(out, `request ${request[1]} is now APPROVED`);
      assert(at(`alert ${a} "`) < at(`note on ${a}: review by`), out);
      assert(at(`note on ${a}: review by`) < at(`note on ${a}: resolution: approved`), out);
      assert(at(`note on ${a}: resolution: approved`) < at(`alert ${a} closed`), out);
    };

    // Alice: notify-services only; a human approves.
    assertIncludes(out, "teleport.dev/notify-services=Teleport Notifications)");
    act(
      "alice@example\\.com",
      "editor",
      "Teleport Notifications",
      /teleport\s+reviewer@example\.com approved/,
    );
    // Bob: teleport.dev/schedules names the schedule he is on call in; the plugin approves.
    assertIncludes(out, "teleport.dev/schedules=Platform On-Call)");
    act("bob@example\\.com", "demo-role", "Teleport Notifications", /plugin→teleport\s+plugin approved/);
    assert.match(
      out,
      /plugin approved request \w+: "Access requested by user bob@example\.com who is on call/,
    );
    // Carol: no annotations; the Access Monitoring Rule (notification "opsgenie") routes her request.
    assertIncludes(out, "carol@example.com's request names no schedule");
    assertIncludes(out, "access_monitoring_rule db-admin-requests created");
    act("carol@example\\.com", "db-admin", "Database On-Call", /teleport\s+reviewer@example\.com approved/);
    assert(at("alice@example.com requested") < at("bob@example.com requested"));
    assert(at("bob@example.com requested") < at("carol@example.com requested"));

    assertIncludes(out, "all steps happened in");
    const dir = announcedDir(out);
    assertIncludes(out, `removed ${dir}`);
    assert.equal(await pathExists(dir), false, `${dir} left behind`);
  } finally {
    await removeLeftovers(res.stdout);
  }
});

Deno.test("`demo` refuses an unknown --backend, and --keep with opsgenie, in one line with exit 2", async () => {
  for (
    const [args, problem] of [
      [["--backend", "jsm"], '--backend must be one of pagerduty, opsgenie, not "jsm"'],
      [["--backend"], '--backend must be one of pagerduty, opsgenie, not ""'],
      [["--backend=opsgenie", "--keep"], "--keep works with --backend pagerduty only"],
    ]
  ) {
    const res = await run(DENO, ["task", "--quiet", "demo", ...args], { cwd: ROOT });
    assert.equal(res.code, 2, `${args}: ${res.stdout}\n${res.stderr}`);
    assert.equal(res.stdout.split("\n")[0], problem);
    assertIncludes(res.stdout, "usage: deno task demo [--backend pagerduty|opsgenie]");
  }
});

Deno.test("`demo --keep` keeps running, prints the config and addresses, takes commands, cleans up on SIGINT", async () => {
  const { env, args } = taskCommand();
  const child = new Deno.Command(DENO, {
    args: [...args, "--keep"],
    cwd: ROOT,
    env: { DENO_NO_UPDATE_CHECK: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let out = "";
  const reading = (async () => {
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  const stderr = new Response(child.stderr).text();
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(out)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return out.match(pattern)!;
  };
  const writer = child.stdin.getWriter();
  try {
    await waitFor(/Ctrl-C stops everything/);
    assert.match(out, /Teleport Auth \(double\):\s+127\.0\.0\.1:\d+/);
    assert.match(out, /PagerDuty API \(double\):\s+http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /PagerDuty API key:\s+\S+/);
    const configPath = (await waitFor(/configuration:\s+(\S+\.toml)/))[1];
    const toml = await Deno.readTextFile(configPath);
    // It holds the API key: a second instance started on it must not warn about its mode.
    assert.equal((await Deno.stat(configPath)).mode! & 0o777, 0o600);
    for (
      const key of ["addr", "client_key", "client_crt", "root_cas", "api_key", "user_email", "api_endpoint"]
    ) {
      assert.match(toml, new RegExp(`^${key} = "`, "m"), toml);
    }
    assertIncludes(out, `deno task start -c ${configPath}`);

    await writer.write(new TextEncoder().encode("request carol@example.com editor\n"));
    const id = (await waitFor(/created request (\w{8})/))[1];
    const incident = (await waitFor(/incident (\w+) "Access request from carol@example\.com" opened/))[1];
    await writer.write(new TextEncoder().encode(`approve ${id} fine\n`));
    await waitFor(new RegExp(`incident ${incident} resolved`));

    child.kill("SIGINT");
    const status = await child.status;
    await reading;
    assert.equal(status.code, 0, `${out}\n${await stderr}`);
    const dir = announcedDir(out);
    assertIncludes(out, `removed ${dir}`);
    assert.equal(await pathExists(dir), false, `${dir} left behind`);
  } finally {
    await writer.close().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await reading.catch(() => {});
    await stderr.catch(() => {});
    await removeLeftovers(out);
  }
});

for (
  const [backend, pathPrefix, noun] of [
    ["pagerduty", "/incidents", "incident"],
    ["opsgenie", "/v2/alerts", "alert"],
  ] as const
) {
  Deno.test(`${backend}: a step that does not happen is reported by name (MissingStep) and the world is cleaned up`, async () => {
    // Logging left unconfigured: the plugin's retry errors are expected here.
    await shutdownLogging();
    const lines: string[] = [];
    const env = await setUpDemo({ backend, write: (line) => lines.push(line) });
    const api = env.backend.api;
    const dir = env.world.dir;
    try {
      // The API refuses every incident (alert): the first step cannot happen.
      api.inject5xx({ method: "POST", pathPrefix }, 503);
      await assert.rejects(
        () => playStory(env, { stepTimeoutMs: 1_000 }),
        (err: Error) => {
          assert(err instanceof MissingStep, String(err));
          assert.match(
            err.message,
            new RegExp(`^${noun} for alice@example\\.com's request \\w+ did not happen within 1 s$`),
          );
          return true;
        },
      );
      env.timeline.poll();
      api.clearFaults(); // lets the plugin's retry finish, so it stops quickly
      const refusedLine = new RegExp(`plugin→${backend}\\s+POST ${pathPrefix} → 503`);
      assert(lines.some((l) => refusedLine.test(l)), lines.join("\n"));
    } finally {
      await env[Symbol.asyncDispose]();
    }
    assert.equal(await pathExists(dir), false);
  });
}
