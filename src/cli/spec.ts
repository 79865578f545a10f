/**
 * What distinguishes one plugin program (teleport-pagerduty, teleport-opsgenie) from
 * another on the command line: its name, texts, configuration and plugin. The CLI
 * grammar, start-up, logging, PID file and signal handling are shared.
 */
import type { Command } from "commander";
import type { LogConfig } from "../config/types.ts";

/** The plugin's main loop: runs until `signal` aborts. */
export type RunProgram<C> = (config: C, opts: { signal: AbortSignal }) => Promise<void>;

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
  /**
   * Loaded on demand so that `version`, `configure` and `help` stay fast and need no
   * extra permissions (the gRPC stack reads environment variables on import).
   */
  loadPlugin(): Promise<RunProgram<C>>;
  /** Adds the program's own commands (teleport-pagerduty: `review-setup`); `exit` sets the exit code. */
  commands?(program: Command, exit: (code: number) => void): void;
}
