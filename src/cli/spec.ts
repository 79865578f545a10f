/**
 * What distinguishes one plugin program (teleport-pagerduty, teleport-opsgenie) from
 * another on the command line: its name, texts, configuration and plugin. The CLI
 * grammar, start-up, logging, PID file and signal handling are shared.
 */
import type { Command } from "commander";
import type { LogConfig } from "../config/types.ts";
import type { ReloadHooks } from "../ops/reload.ts";
import type { ReloadPlan } from "../ops/reload_plan.ts";

/**
 * The plugin's main loop: runs until `signal` aborts. It registers with
 * `reloader.onApply` what it does with a reloaded configuration.
 */
export type RunProgram<C> = (
  config: C,
  opts: { signal: AbortSignal; reloader?: ReloadHooks<C> },
) => Promise<void>;

export interface ProgramSpec<C extends { log: LogConfig }> {
  /** Binary name, e.g. "teleport-opsgenie". */
  name: string;
  /** One line for `help`. */
  description: string;
  /** "PagerDuty", "Opsgenie": for command descriptions. */
  product: string;
  exampleConfig: string;
  defaultConfigPath: string;
  loadConfig(path: string): Promise<{ config: C; warnings: string[] }>;
  /** Values that must never reach the log. */
  secretsOf(config: C): string[];
  /** What a reloaded configuration changes (SIGHUP). */
  planReload(previous: C, next: C): ReloadPlan;
  /**
   * Loaded on demand so that `version`, `configure` and `help` stay fast and need no
   * extra permissions (the gRPC stack reads environment variables on import).
   */
  loadPlugin(): Promise<RunProgram<C>>;
  /** Adds the program's own commands (teleport-pagerduty: `review-setup`); `exit` sets the exit code. */
  commands?(program: Command, exit: (code: number) => void): void;
}
