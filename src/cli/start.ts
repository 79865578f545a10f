/** `teleport-pagerduty start`: load the configuration, set up logging, run until signalled. */
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { getLog, logsToStderr, setupLogging, shutdownLogging } from "../ops/logging.ts";
import { writePidFile } from "../ops/pid_file.ts";
import { ConfigReloader } from "../ops/reload.ts";
import { planReload } from "../ops/reload_plan.ts";
import { handleSignals } from "../ops/signals.ts";

export interface StartOptions {
  config: string;
  debug: boolean;
  /** Where to write the PID (the upstream systemd unit asks for one). */
  pidFile?: string;
}

/**
 * The plugin's main loop: runs until `signal` aborts. It registers with
 * `reloader.onApply` what it does with a reloaded configuration.
 */
export type RunPlugin = (
  config: Config,
  opts: { signal: AbortSignal; reloader?: ConfigReloader },
) => Promise<void>;

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
export async function start(opts: StartOptions, loadPlugin = loadRealPlugin): Promise<number> {
  const { config, warnings } = await loadConfig(opts.config);
  const reviewSecrets = [
    ...config.review?.webhookSecrets ?? [],
    ...Object.values(config.review?.actionSecrets ?? {}).filter((s): s is string => !!s),
  ];
  await setupLogging(config.log, { debug: opts.debug, secrets: [config.pagerduty.apiKey, ...reviewSecrets] });
  const log = getLog("cli");
  if (opts.debug) log.debug("DEBUG logging enabled");
  for (const warning of warnings) log.warn(warning);

  const runPlugin = await loadPlugin();
  const removePidFile = opts.pidFile ? await writePidFile(opts.pidFile) : () => Promise.resolve();
  const shutdown = new AbortController();
  const reloader = new ConfigReloader({ path: opts.config, initial: config });
  // Logging first, so the plugin's own reload messages use the new settings.
  reloader.onApply(async (next, previous) => {
    if (!planReload(previous, next).logging) return;
    await setupLogging(next.log, {
      debug: opts.debug,
      secrets: [previous.pagerduty.apiKey, next.pagerduty.apiKey],
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
