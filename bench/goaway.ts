/**
 * GOAWAY crash repro (denoland/deno#36788): Deno's node:http2 can abort inside nghttp2
 * (SIGABRT 134 / SIGSEGV 139) when a server GOAWAY reaches a session in a certain idle
 * state. For each channel strategy (src/teleport/channels.ts): a Teleport double in its
 * own process, N plugin-side clients in their own processes (bench/goaway_client.ts:
 * watch + a few calls), all idle for --idle-seconds, then a graceful server restart
 * (GOAWAY); --rounds times. A trial is one client process; it dies, or reconnects and runs
 * its calls again after every restart. The strategies run side by side, each against its
 * own server. Counted: clients that died on their own (the exit and last stderr line).
 *
 * --busy: the clients keep unary calls in flight throughout (a plugin under load) instead.
 *
 *   deno run -A bench/goaway.ts [--smoke] [--idle-seconds 30] [--trials 20] [--rounds 1] [--busy]
 *                               [--strategies shared,split-idle,split-close,keepalive]
 */
import { parseArgs } from "node:util";
import { CHANNEL_STRATEGIES, type ChannelStrategy } from "../src/teleport/channels.ts";
import { describeExit, sleep } from "./lib.ts";
import { isSmoke, Report } from "./report.ts";

const FLAGS = ["--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-run", "--allow-sys"];
const READY_TIMEOUT_MS = 120_000;
const AFTER_RESTART_TIMEOUT_MS = 60_000;

/** A child Deno process whose stdout lines can be awaited. */
class Child {
  readonly process: Deno.ChildProcess;
  readonly lines: string[] = [];
  /** The end of stderr (why a process exited non-zero). */
  stderrTail = "";
  exited: Deno.CommandStatus | undefined;
  killedByUs = false;
  readonly status: Promise<Deno.CommandStatus>;
  #waiters: Array<() => void> = [];
  #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;

  constructor(file: string, args: string[], withStdin = false) {
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["run", ...FLAGS, file, ...args],
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdin: withStdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#readStderr();
    if (withStdin) this.#stdin = this.process.stdin.getWriter();
    this.status = this.process.status.then((status) => {
      this.exited = status;
      this.#wake();
      return status;
    });
    this.#read();
  }

  async #read(): Promise<void> {
    let tail = "";
    for await (const chunk of this.process.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (tail + chunk).split("\n");
      tail = parts.pop() ?? "";
      this.lines.push(...parts);
      this.#wake();
    }
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.process.stderr.pipeThrough(new TextDecoderStream())) {
      this.stderrTail = (this.stderrTail + chunk).slice(-400);
    }
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** How many stdout lines equal `line`. */
  count(line: string): number {
    return this.lines.filter((l) => l === line).length;
  }

  /** Resolves with the first line that matches, or undefined if the process exits or time runs out. */
  waitFor(match: (line: string) => boolean, timeoutMs: number): Promise<string | undefined> {
    return this.waitUntil(() => this.lines.find(match), timeoutMs);
  }

  /** Resolves with `probe()` once it is defined, or undefined if the process exits or time runs out. */
  async waitUntil<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = probe();
      if (found !== undefined) return found;
      if (this.exited || Date.now() >= deadline) return undefined;
      const woken = new Promise<void>((resolve) => this.#waiters.push(resolve));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([woken, new Promise((r) => timer = setTimeout(r, deadline - Date.now()))]);
      clearTimeout(timer);
    }
  }

  /** Writes a line to stdin; false if the process is gone. */
  async send(line: string): Promise<boolean> {
    try {
      await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
      return true;
    } catch {
      return false;
    }
  }

  async closeStdin(): Promise<void> {
    await this.#stdin?.close().catch(() => {});
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    this.killedByUs = true;
    try {
      this.process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await this.status;
  }
}

interface Plan {
  trials: number;
  idleS: number;
  /** Graceful restarts per trial, each after idleS of quiet. */
  rounds: number;
  /** Clients keep unary calls in flight instead of going quiet. */
  busy: boolean;
}

interface BatchResult {
  strategy: ChannelStrategy;
  trials: number;
  restarts: number;
  /** Clients that exited on their own with a signal or a non-zero code. */
  deaths: number;
  deathsBeforeRestart: number;
  /** Clients that neither finished nor died in time (killed by the bench). */
  stuck: number;
  ok: number;
  exits: string[];
  /** The last stderr line of each dead client. */
  stderr: string[];
  serverDied: boolean;
}

async function runBatch(strategy: ChannelStrategy, plan: Plan, report: Report): Promise<BatchResult> {
  const credentialsDir = await Deno.makeTempDir({ prefix: "bench-goaway-" });
  const server = new Child("bench/goaway_server.ts", [credentialsDir], true);
  const clients: Child[] = [];
  /** Waits until every live client has said "ready" `times` times; true if all did. */
  const allReady = async (times: number, timeoutMs: number) => {
    const reached = await Promise.all(
      clients.map((c) => c.waitUntil(() => c.count("ready") >= times || undefined, timeoutMs)),
    );
    return reached.every(Boolean);
  };
  try {
    const infoLine = await server.waitFor((line) => line.startsWith("{"), READY_TIMEOUT_MS);
    if (!infoLine) throw new Error(`${strategy}: the server did not start (${describeStatus(server)})`);
    const { addr, dir } = JSON.parse(infoLine) as { addr: string; dir: string };
    for (let i = 0; i < plan.trials; i++) {
      clients.push(
        new Child("bench/goaway_client.ts", [addr, dir, strategy, ...(plan.busy ? ["busy"] : [])]),
      );
    }
    await allReady(1, READY_TIMEOUT_MS);
    const deathsBeforeRestart = clients.filter((c) => c.exited).length;
    report.progress(`${strategy}: ${plan.trials - deathsBeforeRestart} clients ready`);
    let restarts = 0;
    for (let round = 1; round <= plan.rounds; round++) {
      await sleep(plan.idleS * 1000);
      if (!await server.send("restart")) break;
      if (!await server.waitFor((line) => line === "restarted", AFTER_RESTART_TIMEOUT_MS)) break;
      restarts++;
      // Server restarts are counted in its stdout; wait for this one's line next round.
      server.lines.splice(server.lines.indexOf("restarted"), 1);
      await allReady(round + 1, AFTER_RESTART_TIMEOUT_MS);
    }
    report.progress(`${strategy}: ${restarts} graceful restarts done`);
    if (server.exited) {
      report.progress(
        `${strategy}: the server died (${describeExit(server.exited)}): ${server.stderrTail.trim()}`,
      );
    }
    const stuck = clients.filter((c) => !c.exited && c.count("ready") < restarts + 1);
    for (const client of clients) await client.kill();
    // A client whose server died saw a dropped connection, not a GOAWAY: not counted.
    const died = clients.filter((c) => !c.killedByUs && (!server.exited || c.exited!.signal));
    return {
      strategy,
      trials: plan.trials,
      restarts,
      deaths: died.length,
      deathsBeforeRestart,
      stuck: stuck.length,
      ok: plan.trials - died.length - stuck.length,
      exits: died.map((c) => describeExit(c.exited!)),
      stderr: died.map((c) => lastMeaningfulLine(c.stderrTail)).filter(Boolean),
      serverDied: server.exited !== undefined,
    };
  } finally {
    for (const client of clients) await client.kill();
    await server.closeStdin();
    const closed = await Promise.race([server.status, sleep(10_000).then(() => undefined)]);
    if (!closed) await server.kill();
    await Deno.remove(credentialsDir, { recursive: true });
  }
}

/** The last stderr line that is not Deno's own start-up chatter (a SIGSEGV prints nothing). */
function lastMeaningfulLine(stderr: string): string {
  return stderr.trim().split("\n").filter((line) => !/^(Blocking|Download|Warning)/.test(line)).at(-1) ?? "";
}

function describeStatus(child: Child): string {
  return child.exited ? describeExit(child.exited) : "still running";
}

if (import.meta.main) {
  const smoke = isSmoke();
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      smoke: { type: "boolean" },
      "idle-seconds": { type: "string" },
      trials: { type: "string" },
      strategies: { type: "string" },
      rounds: { type: "string" },
      busy: { type: "boolean" },
    },
  });
  const idleS = Number(values["idle-seconds"] ?? (smoke ? 1 : 30));
  const trials = Number(values.trials ?? (smoke ? 2 : 20));
  const rounds = Number(values.rounds ?? 1);
  const busy = values.busy ?? false;
  const strategies = (values.strategies?.split(",") ?? (smoke ? ["shared", "keepalive"] : CHANNEL_STRATEGIES))
    .map((s) => {
      if (!CHANNEL_STRATEGIES.includes(s as ChannelStrategy)) throw new Error(`unknown strategy "${s}"`);
      return s as ChannelStrategy;
    });
  const report = new Report("goaway", { smoke });
  report.note(
    `${trials} client processes per strategy; ${rounds} time(s): ${busy ? "busy" : "idle"} ${idleS} s, ` +
      "then a graceful server restart",
  );
  const plan: Plan = { trials, idleS, rounds, busy };
  const results = await Promise.all(strategies.map((s) => runBatch(s, plan, report)));
  report.table(
    "Plugin-side processes that died on a server GOAWAY (denoland/deno#36788)",
    [
      "strategy",
      "trials",
      "restarts",
      "died",
      "died before the restart",
      "stuck",
      "ok",
      "exits",
      "server died",
    ],
    results.map((r) => [
      r.strategy,
      r.trials,
      r.restarts,
      r.deaths,
      r.deathsBeforeRestart,
      r.stuck,
      r.ok,
      r.exits.join(", ") || "-",
      r.serverDied ? "yes" : "no",
    ]),
  );
  for (const r of results) for (const line of new Set(r.stderr)) report.note(`${r.strategy} stderr: ${line}`);
  report.finish({
    idle_seconds: idleS,
    trials_per_strategy: trials,
    restarts_per_trial: rounds,
    busy,
    deaths: Object.fromEntries(results.map((r) => [r.strategy, r.deaths])),
    stuck: Object.fromEntries(results.map((r) => [r.strategy, r.stuck])),
    server_deaths: results.filter((r) => r.serverDied).length,
  });
}
