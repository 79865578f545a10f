/**
 * `deno task demo [--backend pagerduty|opsgenie] [--keep] [--verbose]`: the real plugin
 * between an in-process Teleport Auth double (gRPC over mutual TLS) and a PagerDuty (or
 * Opsgenie) REST double, playing the setup guide's story and printing what each side saw. Exit 0 when every step happened,
 * 1 (naming the missing step) otherwise. Nothing is left behind: the temporary
 * directory with the credentials is removed on exit.
 */
import { setupLogging, shutdownLogging } from "../ops/logging.ts";
import { printKeepInstructions, readCommands } from "./keep.ts";
import { DEMO_BACKENDS, type DemoBackendName } from "./adapter.ts";
import { type DemoEnv, MissingStep, type PagerDutyDemoEnv, playStory, setUpDemo } from "./story.ts";

const USAGE = `usage: deno task demo [--backend pagerduty|opsgenie] [--keep] [--verbose]
  --backend   the alert service the plugin talks to: pagerduty (default) or opsgenie
  --keep      after the story, leave the doubles and the plugin running (prints addresses, the API
              key and a configuration file; accepts commands on standard input) until Ctrl-C;
              PagerDuty only
  --verbose   also show the plugin's reads (service, schedule, user and on-call lookups)`;

interface Flags {
  backend: DemoBackendName;
  keep: boolean;
  verbose: boolean;
}

function parseFlags(args: string[]): Flags | string {
  const flags: Flags = { backend: "pagerduty", keep: false, verbose: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--keep") flags.keep = true;
    else if (arg === "--verbose" || arg === "-v") flags.verbose = true;
    else if (arg === "--help" || arg === "-h") return "";
    else if (arg === "--backend" || arg.startsWith("--backend=")) {
      const value = arg === "--backend" ? args[++i] : arg.slice("--backend=".length);
      const backend = DEMO_BACKENDS.find((b) => b === value);
      if (!backend) {
        return `--backend must be one of ${DEMO_BACKENDS.join(", ")}, not ${JSON.stringify(value ?? "")}`;
      }
      flags.backend = backend;
    } else return `unknown argument ${JSON.stringify(arg)}`;
  }
  if (flags.keep && flags.backend !== "pagerduty") return `--keep works with --backend pagerduty only`;
  return flags;
}

async function main(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  if (typeof flags === "string") {
    console.log(flags ? `${flags}\n${USAGE}` : USAGE);
    return flags ? 2 : 0;
  }
  // Warnings and errors only, on stderr, so the timeline on stdout stays readable.
  await setupLogging({ output: "stderr", severity: "warn", format: "text" });
  const product = flags.backend === "opsgenie" ? "an Opsgenie" : "a PagerDuty";
  console.log(
    `teleport-${flags.backend} demo: the real plugin between a Teleport double and ${product} double`,
  );
  let env: DemoEnv | undefined;
  let code = 0;
  try {
    env = await setUpDemo({ verbose: flags.verbose, backend: flags.backend });
    await playStory(env);
    console.log(`\nall steps happened in ${env.timeline.elapsed().toFixed(2)} s`);
    if (flags.keep) await keepRunning(env as PagerDutyDemoEnv);
  } catch (err) {
    code = 1;
    env?.timeline.poll();
    if (err instanceof MissingStep) {
      console.log(`\nMISSING: ${err.message}`);
      if (env) describeState(env);
    } else {
      console.log(`\ndemo failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
  } finally {
    if (env) {
      const dir = env.world.dir;
      await env[Symbol.asyncDispose]();
      console.log(`stopped the plugin and the doubles; removed ${dir}`);
    }
    await shutdownLogging();
  }
  return code;
}

/** What the doubles hold, to see where the story stalled. */
function describeState(env: DemoEnv): void {
  for (const id of env.requestIds()) {
    const r = env.world.teleport.getRequest(id);
    console.log(`  teleport   request ${id}: ${r ? `${r.state}, ${r.reviews.length} review(s)` : "deleted"}`);
  }
  for (const line of env.backend.describeState()) console.log(line);
}

/** Until SIGINT/SIGTERM: print instructions, follow the timeline, run stdin commands. */
async function keepRunning(env: PagerDutyDemoEnv): Promise<void> {
  await printKeepInstructions(env);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const stopped = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve()));
    // Standard input may close early (e.g. </dev/null); keep running until a signal anyway.
    readCommands(env, stop.signal).catch(() => {});
    await stopped;
    console.log("\nstopping…");
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  // grpc-js and the HTTP server may hold timers a moment longer; everything is already closed.
  Deno.exit(code);
}
