/** `teleport-<plugin> start`: load the configuration, set up logging, run until signalled. */
import type { Config, LogConfig } from "../config/types.ts";
import { getLog, logsToStderr, setupLogging, shutdownLogging } from "../ops/logging.ts";
import { writePidFile } from "../ops/pid_file.ts";
import { ConfigReloader } from "../ops/reload.ts";
import { handleSignals } from "../ops/signals.ts";
import type { ProgramSpec, RunProgram } from "./spec.ts";

export interface StartOptions {
  config: string;
  debug: boolean;
  /** Where to write the PID (the upstream systemd unit asks for one). */
  pidFile?: string;
}

/** teleport-pagerduty's main loop (see RunProgram). */
export type RunPlugin = RunProgram<Config>;

/**
 * Loaded on demand so that `version`, `configure` and `help` stay fast and need
 * no extra permissions (the gRPC stack reads environment variables on import).
 */
export const loadRealPlugin = async (): Promise<RunPlugin> => (await import("../run.ts")).runPlugin;

/** An error already written to the log, which the CLI must not print a second time. */
export class LoggedFatalError extends Error {
  override name = "LoggedFatalError";
}

/** Returns the exit code; throws for fatal errors (configuration, log file, plugin failure). */
export async function start<C extends { log: LogConfig }>(
  opts: StartOptions,
  spec: ProgramSpec<C>,
): Promise<number> {
  const { config, warnings } = await spec.loadConfig(opts.config);
  await setupLogging(config.log, { debug: opts.debug, secrets: spec.secretsOf(config), program: spec.name });
  const log = getLog("cli");
  if (opts.debug) log.debug("DEBUG logging enabled");
  for (const warning of warnings) log.warn(warning);

  const runPlugin = await spec.loadPlugin();
  const removePidFile = opts.pidFile ? await writePidFile(opts.pidFile) : () => Promise.resolve();
  const shutdown = new AbortController();
  const reloader = new ConfigReloader<C>({
    path: opts.config,
    initial: config,
    load: spec.loadConfig,
    plan: spec.planReload,
  });
  // Logging first, so the plugin's own reload messages use the new settings.
  reloader.onApply(async (next, previous) => {
    if (!spec.planReload(previous, next).logging) return;
    await setupLogging(next.log, {
      debug: opts.debug,
      secrets: [...spec.secretsOf(previous), ...spec.secretsOf(next)],
      program: spec.name,
    });
  });
  const stopHandlingSignals = handleSignals({
    onShutdown: () => shutdown.abort(),
    onReload: () => void reloader.reload(),
  });
  try {
    await runPlugin(config, { signal: shutdown.signal, reloader });
  } catch (err) {
    log.error("Terminating with fatal error: {error}", { error: err });
    await shutdownLogging();
    throw logsToStderr(config.log) ? new LoggedFatalError("fatal error already logged", { cause: err }) : err;
  } finally {
    stopHandlingSignals();
    await removePidFile();
  }
  log.info("Successfully shut down");
  await shutdownLogging();
  return 0;
}
