/**
 * `teleport-pagerduty check`: finds setup mistakes before the first access request,
 * with the normal configuration and without changing anything anywhere. One line per
 * item (ok / warning / error, with the fix); exit 1 when anything is an error.
 */
import { exitCodeOf, formatJson, formatText } from "../check/report.ts";
import { printOut } from "./output.ts";

export interface CheckOptions {
  config: string;
  format: "text" | "json";
}

/** Runs the checks and prints the report; returns the exit code. */
export async function check(opts: CheckOptions): Promise<number> {
  // Loaded on demand: the gRPC stack reads environment variables on import.
  const { runChecks } = await import("../check/run.ts");
  const { pagerDutyCheck } = await import("../backends/pagerduty/check.ts");
  const items = await runChecks(opts.config, pagerDutyCheck);
  printOut(opts.format === "json" ? formatJson(items) : formatText(items));
  return exitCodeOf(items);
}
