/**
 * Shared plumbing of the benchmarks: a world with the fixtures they need, request
 * helpers, incident bookkeeping read from the PagerDuty double, and plugin
 * *processes* (the release command line) for the memory and fault runs.
 *
 * Plugin processes talk to the in-process Teleport double. A grpc-js server in Deno
 * may abort when a client in another process closes its channel gracefully
 * (denoland/deno#36788, docs/deno-http2.md), so processes are always ended with SIGKILL.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { incidentKey } from "../src/backends/pagerduty/client.ts";
import { permissionFlags } from "../scripts/permission_flags.ts";
import type { DoubleService, PagerDutyDouble } from "../src/doubles/pagerduty_double.ts";
import type { CredentialPaths, NewRequest } from "../src/doubles/teleport_double.ts";
import { BOT_EMAIL, PLUGIN_USER, startWorld, type World } from "../src/doubles/world.ts";
import type { OpsgenieWorld } from "../src/doubles/opsgenie_world.ts";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
export const NOTIFY_SERVICE = "Teleport Notifications";
export const NOTIFY_ANNOTATION = "pagerduty_notify_service";
export const APPROVAL_ANNOTATION = "pagerduty_services";
export const REVIEWER = "reviewer1@example.com";
export const REVIEWER2 = "reviewer2@example.com";

export interface BenchWorld extends AsyncDisposable {
  world: World;
  notifyService: DoubleService;
  /** A pending request that asks for an incident only (no auto-approval). */
  notifyRequest(overrides?: Partial<NewRequest>): string;
}

export async function startBenchWorld(): Promise<BenchWorld> {
  const world = await startWorld();
  const notifyService = world.pagerduty.addService({ name: NOTIFY_SERVICE });
  world.teleport.setReviewer(PLUGIN_USER, ["*"]);
  world.teleport.setReviewer(REVIEWER, ["*"]);
  world.teleport.setReviewer(REVIEWER2, ["*"]);
  return {
    world,
    notifyService,
    notifyRequest(overrides = {}) {
      return world.teleport.createRequest({
        user: "requester@example.com",
        roles: ["editor"],
        reason: "bench",
        systemAnnotations: { [NOTIFY_ANNOTATION]: [NOTIFY_SERVICE] },
        ...overrides,
      });
    },
    [Symbol.asyncDispose]: () => world[Symbol.asyncDispose](),
  };
}

/**
 * Reads the PagerDuty double's request log incrementally: when each incident key's
 * first `POST /incidents` reached the double, and how many were answered 201.
 */
export class IncidentLog {
  readonly firstPostAt = new Map<string, number>();
  readonly created = new Map<string, number>();
  #cursor = 0;
  #pending: number[] = [];

  constructor(private readonly pd: PagerDutyDouble) {}

  update(): this {
    const requests = this.pd.requests;
    const stillPending: number[] = [];
    const visit = (i: number) => {
      const r = requests[i];
      if (r.method !== "POST" || r.path !== "/incidents") return;
      const key = (r.body as { incident?: { incident_key?: string } })?.incident?.incident_key ?? "";
      if (!this.firstPostAt.has(key)) this.firstPostAt.set(key, r.at);
      if (r.status === 0) stillPending.push(i);
      else if (r.status === 201) this.created.set(key, (this.created.get(key) ?? 0) + 1);
    };
    for (const i of this.#pending) visit(i);
    for (; this.#cursor < requests.length; this.#cursor++) visit(this.#cursor);
    this.#pending = stillPending;
    return this;
  }

  postedAt(requestId: string): number | undefined {
    return this.firstPostAt.get(incidentKey(requestId));
  }

  has(requestId: string): boolean {
    return (this.created.get(incidentKey(requestId)) ?? 0) > 0;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every `intervalMs` until it is truthy; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** PagerDuty calls by "METHOD /path" (incident ids folded), from request index `from` on. */
export function pdCallsByEndpoint(pd: PagerDutyDouble, from = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of pd.requests.slice(from)) {
    const path = r.path.replace(/^\/incidents\/[^/]+/, "/incidents/:id");
    const key = `${r.method} ${path}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export function diffCounts(after: Record<string, number>, before: Record<string, number>) {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

// ---- plugin processes -----------------------------------------------------------------

export interface ProcessConfigOptions {
  rateLimitPerMinute?: number;
  severity?: "INFO" | "WARN" | "DEBUG" | "ERROR";
}

/** The world's Teleport double and the plugin identity, as a `[teleport]` table. */
function teleportToml(addr: string, c: CredentialPaths): string {
  const q = JSON.stringify;
  return `[teleport]
addr = ${q(addr)}
client_key = ${q(c.clientKey)}
client_crt = ${q(c.clientCrt)}
root_cas = ${q(c.rootCas)}
`;
}

/** Writes `<dir>/<name>.toml`: `[teleport]`, the backend's table, and `[log]`. */
async function writeToml(
  dir: string,
  name: string,
  teleportTable: string,
  backendTable: string,
  options: ProcessConfigOptions,
): Promise<string> {
  const toml = `${teleportTable}
${backendTable}
[log]
output = "stderr"
severity = ${JSON.stringify(options.severity ?? "INFO")}
`;
  const path = join(dir, `${name}.toml`);
  await Deno.writeTextFile(path, toml);
  return path;
}

/** Writes a TOML config for a teleport-pagerduty process pointing at the world's doubles. */
export function writeProcessConfig(
  world: World,
  name: string,
  options: ProcessConfigOptions = {},
): Promise<string> {
  const q = JSON.stringify;
  const pagerduty = `[pagerduty]
api_key = ${q(world.pagerduty.apiKey)}
user_email = ${q(BOT_EMAIL)}
api_endpoint = ${q(world.pagerduty.url)}
rate_limit_per_minute = ${options.rateLimitPerMinute ?? 60_000}
`;
  return writeToml(world.dir, name, teleportToml(world.teleport.addr, world.credentials), pagerduty, options);
}

/** Writes a TOML config for a teleport-opsgenie process pointing at the world's doubles (Opsgenie's API). */
export function writeOpsgenieProcessConfig(
  world: OpsgenieWorld,
  name: string,
  apiKey: string,
  options: ProcessConfigOptions = {},
): Promise<string> {
  const q = JSON.stringify;
  const opsgenie = `[opsgenie]
api_key = ${q(apiKey)}
api_endpoint = ${q(world.alerts.url)}
rate_limit_per_minute = ${options.rateLimitPerMinute ?? 60_000}
`;
  return writeToml(world.dir, name, teleportToml(world.teleport.addr, world.credentials), opsgenie, options);
}

/** Which program a plugin process runs, under which deno.json permission set. */
export interface PluginCommand {
  program: string;
  permissionSet: string;
}

/** teleport-pagerduty's release command line. */
export const PAGERDUTY_COMMAND: PluginCommand = { program: "src/main.ts", permissionSet: "plugin" };

/** teleport-opsgenie's release command line. */
export const OPSGENIE_COMMAND: PluginCommand = {
  program: "src/main_opsgenie.ts",
  permissionSet: "plugin-opsgenie",
};

/** One `deno run <release flags> <program> start -c FILE` process (teleport-pagerduty unless told). */
export class PluginProcess {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  readonly spawnedAt = performance.now();
  /** performance.now() when "Plugin is ready" was logged, once it was. */
  readyAt: number | undefined;
  readonly ready: Promise<number>;
  readonly status: Promise<Deno.CommandStatus>;
  killedByUs = false;
  logLines = 0;
  errorLines = 0;
  #markReady!: (at: number) => void;

  constructor(
    readonly label: string,
    configPath: string,
    logPath?: string,
    command: PluginCommand = PAGERDUTY_COMMAND,
  ) {
    const args = [
      "run",
      ...permissionFlags(join(REPO_ROOT, "deno.json"), command.permissionSet),
      command.program,
      "start",
      "-c",
      configPath,
    ];
    this.child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: REPO_ROOT,
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.pid = this.child.pid;
    this.ready = new Promise((resolve) => this.#markReady = resolve);
    this.status = this.child.status;
    this.#consume(logPath);
  }

  async #consume(logPath?: string): Promise<void> {
    const [forFile, forScan] = this.child.stderr.tee();
    const file = logPath ? await Deno.open(logPath, { create: true, append: true }) : undefined;
    const writing = file ? forFile.pipeTo(file.writable).catch(() => {}) : forFile.cancel();
    let tail = "";
    try {
      for await (const chunk of forScan.pipeThrough(new TextDecoderStream())) {
        const lines = (tail + chunk).split("\n");
        tail = lines.pop() ?? "";
        for (const line of lines) {
          this.logLines++;
          if (/\bERROR\b|"level":"error"/i.test(line)) this.errorLines++;
          if (this.readyAt === undefined && line.includes("Plugin is ready")) {
            this.readyAt = performance.now();
            this.#markReady(this.readyAt);
          }
        }
      }
    } catch {
      // The process died mid-line.
    }
    await writing;
  }

  /**
   * VmRSS and VmHWM in MiB from /proc/<pid>/status (null once the process is gone).
   * Deno refuses /proc reads without --allow-all, so `cat` (--allow-run) reads it.
   */
  async memory(): Promise<{ rssMiB: number; hwmMiB: number } | null> {
    const out = await new Deno.Command("cat", {
      args: [`/proc/${this.pid}/status`],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return null;
    const text = new TextDecoder().decode(out.stdout);
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
    const m = { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
    return Number.isFinite(m.rssMiB) ? m : null;
  }

  /** SIGKILL (never a graceful stop: see the header) and wait for the exit. */
  async kill(): Promise<Deno.CommandStatus> {
    this.killedByUs = true;
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    return await this.status;
  }
}

/** Exit codes of a process that died on its own: 134 (SIGABRT) / 139 (SIGSEGV) is the Deno GOAWAY abort. */
export function describeExit(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal} (code ${status.code})` : `code ${status.code}`;
}
