/** `teleport-pagerduty review-setup`: prepares PagerDuty for reviews from PagerDuty ([review]). */
import { loadConfig } from "../config/load.ts";
import { printOut } from "./output.ts";

export interface ReviewSetupOptions {
  config: string;
}

/** Loaded on demand, like `start`, so other commands need no network permissions. */
export async function reviewSetup(opts: ReviewSetupOptions): Promise<number> {
  const { config } = await loadConfig(opts.config);
  const { PagerDutyReviewApi } = await import("../backends/pagerduty/review_api.ts");
  const { runReviewSetup } = await import("../review/setup.ts");
  const api = new PagerDutyReviewApi(config.pagerduty);
  try {
    await runReviewSetup(config.review, api, printOut);
  } finally {
    api.close();
  }
  return 0;
}
