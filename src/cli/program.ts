/** Command-line grammar (commander). Parsing errors exit 1 like upstream's kingpin. */
import { Command, CommanderError, Option } from "commander";
import { check } from "./check.ts";
import { EXAMPLE_CONFIG } from "../config/example.ts";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../config/load.ts";
import type { Config, LogConfig } from "../config/types.ts";
import { planReload } from "../ops/reload_plan.ts";
import { FLAVOUR, GIT_REF, VERSION } from "../version.ts";
import { printErr, printOut } from "./output.ts";
import type { ProgramSpec } from "./spec.ts";
import { loadRealPlugin, LoggedFatalError, type RunPlugin, start } from "./start.ts";
import { reviewSetup } from "./review_setup.ts";

export const APP_NAME = "teleport-pagerduty";

/** teleport-pagerduty. */
export const PAGERDUTY_PROGRAM: ProgramSpec<Config> = {
  name: APP_NAME,
  description: "Teleport plugin for access requests approval via PagerDuty.",
  product: "PagerDuty",
  exampleConfig: EXAMPLE_CONFIG,
  defaultConfigPath: DEFAULT_CONFIG_PATH,
  loadConfig,
  secretsOf: (config) => [
    config.pagerduty.apiKey,
    ...config.review?.webhookSecrets ?? [],
    ...Object.values(config.review?.actionSecrets ?? {}).filter((s): s is string => !!s),
  ],
  planReload,
  loadPlugin: loadRealPlugin,
  commands(program, exit) {
    program.command("check")
      .description("Checks the configuration, Teleport and PagerDuty for setup mistakes; changes nothing.")
      .option("-c, --config <path>", "TOML config file path", DEFAULT_CONFIG_PATH)
      .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
      .action(async (opts: { config: string; format: "text" | "json" }) => {
        exit(await check(opts));
      });
    program.command("review-setup")
      .description(
        "Creates or updates the PagerDuty webhook subscription for [review] and prints the remaining steps.",
      )
      .option("-c, --config <path>", 'TOML config file path ("-" reads standard input)', DEFAULT_CONFIG_PATH)
      .action(async (opts: { config: string }) => {
        exit(await reviewSetup(opts));
      });
  },
};

/** `teleport-pagerduty v0.1.0 git:abc123 deno 2.9.6 (launcher)`: upstream's line plus the build flavour. */
export function versionLine(name = APP_NAME): string {
  const ref = GIT_REF === "" ? "" : ` git:${GIT_REF}`;
  return `${name} v${VERSION}${ref} deno ${Deno.version.deno} (${FLAVOUR})`;
}

/** Runs teleport-pagerduty's CLI and returns the exit code. `loadPlugin` is replaceable for tests. */
export function runCli(
  args: string[],
  loadPlugin: () => Promise<RunPlugin> = loadRealPlugin,
): Promise<number> {
  return runProgram({ ...PAGERDUTY_PROGRAM, loadPlugin }, args);
}

/** Runs a plugin program's CLI (`configure`, `version`, `start`) and returns the exit code. */
export async function runProgram<C extends { log: LogConfig }>(
  spec: ProgramSpec<C>,
  args: string[],
): Promise<number> {
  const name = spec.name;
  let exitCode = 0;
  let debug = false;
  const program = new Command(name)
    .description(spec.description)
    .exitOverride()
    .configureOutput({
      writeOut: printOut,
      writeErr: printErr,
      // Plain help text; also avoids reading NO_COLOR & co., which would need --allow-env.
      getOutHasColors: () => false,
      getErrHasColors: () => false,
      outputError: (message, write) => write(`${name}: ${message}`),
    })
    .showHelpAfterError(`(run '${name} help' for usage)`);

  program.command("configure")
    .description("Prints an example .TOML configuration file.")
    .action(() => printOut(spec.exampleConfig));
  program.command("version")
    .description(`Prints ${name} version.`)
    .action(() => printOut(versionLine(name) + "\n"));
  program.command("start")
    .description(`Starts a Teleport ${spec.product} plugin.`)
    .option("-c, --config <path>", 'TOML config file path ("-" reads standard input)', spec.defaultConfigPath)
    .option("-d, --debug", "Enable debug logging (overrides log.severity)")
    .option("--pid-file <path>", "Write the process ID to this file (as the upstream systemd unit asks)")
    .action(async (opts: { config: string; debug?: boolean; pidFile?: string }) => {
      debug = opts.debug ?? false;
      exitCode = await start({ config: opts.config, debug, pidFile: opts.pidFile }, spec);
    });
  spec.commands?.(program, (code) => exitCode = code);

  try {
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (err) {
    // commander has already printed usage or the parse error.
    if (err instanceof CommanderError) return err.exitCode;
    if (!(err instanceof LoggedFatalError)) printFatal(name, err, debug);
    return 1;
  }
}

/** One readable line; the stack trace only for --debug, since operators rarely need it. */
function printFatal(name: string, err: unknown, debug: boolean): void {
  const message = err instanceof Error ? err.message : String(err);
  printErr(`${name}: error: ${message}\n`);
  if (debug && err instanceof Error && err.stack) printErr(`${err.stack}\n`);
}
