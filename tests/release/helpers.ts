/** Shared helpers for the release tests: permission flags, fixtures, running the bundle and the release. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { permissionFlags } from "../../scripts/permission_flags.ts";
import { TestPki } from "../../src/doubles/pki.ts";
import { eventually, type World } from "../../src/doubles/world.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DENO = Deno.execPath();
export const DENY_PROBE = join(ROOT, "tests/release/probes/deny_probe.ts");

/** The release permission set as explicit flags (generated from deno.json, never copied). */
export const PLUGIN_FLAGS: string[] = permissionFlags(join(ROOT, "deno.json"));

/** The deny probe's results under the release permissions: denied, allowed and granted as specified. */
export function assertReleaseProbe(results: Record<string, string>): void {
  for (
    const check of [
      "run",
      "write outside the log dir",
      "env HOME",
      "env PATH",
      "env toObject",
      "sys hostname",
      "sys osRelease",
      "ffi",
    ]
  ) {
    assert.equal(results[check], "denied", `${check} must fail with NotCapable`);
  }
  for (
    const check of [
      "env TELEPORT_PLUGIN_FAIL_FAST",
      "env https_proxy",
      "env HTTPS_PROXY",
      "env NO_COLOR",
      "read",
    ]
  ) {
    assert.equal(results[check], "allowed", check);
  }
  assert.equal(results["query write /var/log/teleport-pagerduty/plugin.log"], "granted");
  assert.notEqual(results["query write /var/log/syslog"], "granted");
  assert.equal(results["query net api.pagerduty.com:443"], "granted");
  assert.notEqual(results["query import"], "granted");
}

/** `text` contains `part` (the message shows the text). */
export function assertIncludes(text: string, part: string, message?: string): void {
  if (!text.includes(part)) {
    throw new Error(`${message ?? "missing text"}: expected ${JSON.stringify(part)} in:\n${text}`);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean; stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: { DENO_NO_UPDATE_CHECK: "1", ...opts.env },
    clearEnv: opts.clearEnv,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `deno run <release flags> <extra flags> script args…` from `cwd` (default: the repo). */
export function runWithPluginPermissions(
  script: string,
  args: string[] = [],
  opts: { cwd?: string; env?: Record<string, string>; extraFlags?: string[] } = {},
): Promise<RunResult> {
  return run(DENO, ["run", ...PLUGIN_FLAGS, ...(opts.extraFlags ?? []), script, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: opts.env,
  });
}

/** Builds the bundle of src/main.ts (what release.sh ships) into `outFile`. */
export async function buildBundle(outFile: string): Promise<void> {
  const res = await run(DENO, ["bundle", "--quiet", "--platform", "deno", "-o", outFile, "src/main.ts"], {
    cwd: ROOT,
  });
  if (res.code !== 0) throw new Error(`deno bundle failed (${res.code}):\n${res.stderr}`);
}

/**
 * Runs a bundle the way it ships: from `cwd` (a directory with no deno.json or
 * node_modules), with an empty DENO_DIR and only the release permission flags.
 * The full incident-flow test adds its own env (config path, fakes' addresses).
 */
export async function runBundle(
  bundle: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd: string; denoDir: string; stdin?: string },
): Promise<RunResult> {
  return await run(DENO, ["run", "--quiet", ...PLUGIN_FLAGS, bundle, ...args], {
    cwd: opts.cwd,
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", DENO_DIR: opts.denoDir, ...opts.env },
    stdin: opts.stdin,
  });
}

/**
 * Writes what an operator deploys: TLS credentials, an API-key file (mode 0600), a CA
 * file and a config pointing at them. Teleport and PagerDuty point at `host:closedPort`
 * so calls fail fast (the network path still runs: DNS, connect, TLS setup).
 */
export async function writeDeployFixture(
  dir: string,
  opts: { logOutput: string; teleportAddr: string; pagerdutyEndpoint: string },
): Promise<string> {
  const pki = await TestPki.create("example.com");
  const client = await pki.issueClientCert("access-plugin");
  const file = (name: string, text: string, mode = 0o600) => {
    const path = join(dir, name);
    Deno.writeTextFileSync(path, text, { mode });
    return path;
  };
  const key = file("auth.key", client.keyPem);
  const crt = file("auth.crt", client.certPem);
  const cas = file("auth.cas", pki.caPem);
  const ca = file("pd-ca.pem", pki.caPem, 0o644);
  const apiKey = file("pagerduty_api_key", "probe-api-key\n");
  return file(
    "teleport-pagerduty.toml",
    `[teleport]
addr = "${opts.teleportAddr}"
client_key = "${key}"
client_crt = "${crt}"
root_cas = "${cas}"

[pagerduty]
api_key = "${apiKey}"
user_email = "bot@example.com"
api_endpoint = "${opts.pagerdutyEndpoint}"
ca_file = "${ca}"

[log]
output = "${opts.logOutput}"
severity = "debug"
`,
    0o644,
  );
}

/** A TCP port with nothing listening on it (bound then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A running plugin process (see `spawnProcess`). */
export interface PluginProcess {
  child: Deno.ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL, then waits for the exit; output readers are drained. */
  kill(): Promise<Deno.CommandStatus>;
}

/**
 * Starts `cmd args…` in the background with exactly `env` (nothing inherited), collecting
 * stderr. Stop it with `kill()`: SIGKILL, because a graceful close of its gRPC channel can
 * abort a grpc-js server living in the test process (docs/deno-http2.md).
 */
export function spawnProcess(
  cmd: string,
  args: string[],
  opts: { env: Record<string, string>; cwd: string },
): PluginProcess {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    clearEnv: true,
    env: opts.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) text += decoder.decode(chunk, { stream: true });
  })().catch(() => {});
  return {
    child,
    stderr: () => text,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already exited */ }
      const status = await child.status;
      await reading;
      return status;
    },
  };
}

/** Starts a bundle the way `runBundle` runs it (release flags, empty DENO_DIR, clean environment). */
export function spawnBundle(
  bundle: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd: string; denoDir: string },
): PluginProcess {
  return spawnProcess(DENO, ["run", "--quiet", ...PLUGIN_FLAGS, bundle, ...args], {
    cwd: opts.cwd,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      DENO_DIR: opts.denoDir,
      DENO_NO_UPDATE_CHECK: "1",
      ...opts.env,
    },
  });
}

/**
 * The plugin in `plugin` (another process) serves `world` (called once per world): it gets ready, an access request
 * opens an incident on the notify service with the request's details, an approval resolves
 * it. Fails early with the plugin's stderr when the process exits.
 */
export async function assertIncidentFlow(world: World, plugin: PluginProcess, reason: string): Promise<void> {
  const notify = world.pagerduty.addService({ name: "Teleport Notifications" });
  world.teleport.setReviewer("reviewer@example.com", ["editor"]);
  const died = plugin.child.status.then((s) => {
    throw new Error(`the plugin exited (${s.code}):\n${plugin.stderr()}`);
  });
  died.catch(() => {});
  const until = <T>(what: string, check: () => T | undefined | false) =>
    Promise.race([eventually(what, check, 60_000), died]);
  await until("the plugin's watch stream", () => world.teleport.watcherCount > 0);
  await until("readiness", () => plugin.stderr().includes("Plugin is ready"));

  const id = world.teleport.createRequest({
    user: "alice@example.com",
    roles: ["editor"],
    reason,
    systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications"] },
  });
  const incident = await until(
    "the incident",
    () => world.pagerduty.incidents().find((i) => i.incidentKey === `teleport-access-request/${id}`),
  );
  assert.equal(incident.title, "Access request from alice@example.com");
  assert.equal(incident.serviceId, notify.id);
  assert.match(String(incident.details), /alice@example\.com requested permissions for roles editor/);

  world.teleport.review("reviewer@example.com", id, "APPROVED", "fine");
  const resolved = await until("the resolved incident", () => {
    const now = world.pagerduty.incidents().find((i) => i.id === incident.id);
    return now?.status === "resolved" ? now : undefined;
  });
  assert.equal(resolved.notes.length, 2, JSON.stringify(resolved.notes));
  assert.deepEqual(world.pagerduty.violations, []);
  assert(!/NotCapable|Requires \w+ access/.test(plugin.stderr()), plugin.stderr());
}

/**
 * The example config (as `configure` prints it) edited the way an operator does: each key is
 * set on its live line, or on its commented-out line when it has none (`# key = …`).
 */
export function editConfig(example: string, values: Record<string, string>): string {
  const lines = example.split("\n");
  for (const [key, value] of Object.entries(values)) {
    const live = lines.findIndex((l) => l.startsWith(`${key} = `));
    const index = live >= 0 ? live : lines.findIndex((l) => l.startsWith(`# ${key} = `));
    if (index < 0) throw new Error(`the example config has no line for ${key}`);
    lines[index] = `${key} = ${JSON.stringify(value)}`;
  }
  return lines.join("\n");
}

/** The example config pointed at `world`'s doubles, with the API key in a 0600 file in `dir`. */
export async function worldConfig(example: string, world: World, dir: string): Promise<string> {
  const apiKeyFile = join(dir, "pagerduty_api_key");
  await Deno.writeTextFile(apiKeyFile, world.pagerduty.apiKey + "\n", { mode: 0o600 });
  return editConfig(example, {
    addr: world.teleport.addr,
    client_key: world.credentials.clientKey,
    client_crt: world.credentials.clientCrt,
    root_cas: world.credentials.rootCas,
    api_key: apiKeyFile,
    user_email: "bot@example.com",
    api_endpoint: world.pagerduty.url,
  });
}

/** The release tarball's name for the version in deno.json. */
export const TARBALL = `teleport-access-pagerduty-v${
  JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version
}-linux-amd64-bin.tar.gz`;

/** A release built by scripts/release.sh into a temp DIST_DIR (with its own runtime cache). */
export interface Release {
  dist: string;
  result: RunResult;
  cleanup(): Promise<void>;
}

/** Runs scripts/release.sh into a new temp directory; `cleanup` removes it. */
export async function buildRelease(env: Record<string, string> = {}): Promise<Release> {
  const dist = await Deno.makeTempDir({ prefix: "tp-release-" });
  const result = await run("bash", [join(ROOT, "scripts/release.sh")], {
    cwd: ROOT,
    env: { DIST_DIR: dist, DENO_RUNTIME_CACHE: join(dist, ".runtime-cache"), DENO, ...env },
  });
  return { dist, result, cleanup: () => Deno.remove(dist, { recursive: true }) };
}

/** Unpacks the release tarball into a new empty directory inside `under`; returns its teleport-pagerduty/. */
export async function unpackRelease(dist: string, under: string): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: under, prefix: "unpacked-" });
  await Deno.chmod(dir, 0o755); // readable by another user (the unprivileged install test)
  const res = await run("tar", ["-xzf", join(dist, TARBALL), "-C", dir]);
  if (res.code !== 0) throw new Error(`tar failed: ${res.stderr}`);
  return join(dir, "teleport-pagerduty");
}
