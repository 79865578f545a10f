/**
 * TEMPORARY placeholder so the CLI runs end to end; the real plugin loop replaces
 * this file. It only waits for the shutdown signal.
 */
import type { Config } from "../config/types.ts";
import { getLog } from "../ops/logging.ts";

export async function runPlugin(_config: Config, opts: { signal: AbortSignal }): Promise<void> {
  getLog("core").info("Starting Teleport Access PagerDuty Plugin");
  if (opts.signal.aborted) return;
  await new Promise<void>((resolve) => opts.signal.addEventListener("abort", () => resolve(), { once: true }));
}
