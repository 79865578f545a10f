/** Shared helpers for the release tests: permission flags, fixtures, running the bundle. */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { permissionFlags } from "../../scripts/permission_flags.ts";
import { TestPki } from "../../src/doubles/pki.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const DENO = Deno.execPath();

/** The release permission set as explicit flags (generated from deno.json, never copied). */
export const PLUGIN_FLAGS: string[] = permissionFlags(join(ROOT, "deno.json"));

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

/** A running bundle (see `spawnBundle`). */
export interface BundleProcess {
  child: Deno.ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGKILL, then waits for the exit; output readers are drained. */
  kill(): Promise<Deno.CommandStatus>;
}

/**
 * Starts a bundle the way `runBundle` runs it (release flags, empty DENO_DIR, clean
 * environment) but in the background, collecting stderr. Stop it with `kill()`:
 * SIGKILL, because a graceful close of its gRPC channel can abort a grpc-js server
 * living in the test process (docs/deno-http2.md).
 */
export function spawnBundle(
  bundle: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd: string; denoDir: string },
): BundleProcess {
  const child = new Deno.Command(DENO, {
    args: ["run", "--quiet", ...PLUGIN_FLAGS, bundle, ...args],
    cwd: opts.cwd,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      DENO_DIR: opts.denoDir,
      DENO_NO_UPDATE_CHECK: "1",
      ...opts.env,
    },
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
