/** Shared setup for the PagerDuty client tests. */
import {
  PagerDutyClient,
  type PagerDutyClientConfig,
  type PagerDutyClientOptions,
} from "../../../src/backends/pagerduty/mod.ts";
import { PagerDutyDouble } from "../../../src/doubles/pagerduty_double.ts";

export const BOT_EMAIL = "bot@example.com";

/** A client wired to the double, with retries and rate limits shrunk so tests stay fast. */
export function clientFor(
  pd: PagerDutyDouble,
  config: Partial<PagerDutyClientConfig> = {},
  options: PagerDutyClientOptions = {},
): PagerDutyClient {
  return new PagerDutyClient(
    {
      apiKey: pd.apiKey,
      userEmail: BOT_EMAIL,
      apiEndpoint: pd.url,
      rateLimitPerMinute: 600_000,
      requestTimeout: 2_000,
      ...config,
    },
    { retry: { deadlineMs: 5_000, baseDelayMs: 2, maxDelayMs: 20 }, ...options },
  );
}

/** Starts a double, runs `fn`, and always closes it. */
export async function withDouble(fn: (pd: PagerDutyDouble) => Promise<void>): Promise<void> {
  const pd = await PagerDutyDouble.start();
  try {
    await fn(pd);
  } finally {
    await pd.close();
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** A minimal incident input for request `id` in `serviceId`. */
export function incidentInput(serviceId: string, id: string) {
  return {
    serviceId,
    requestId: id,
    title: `Access request from alice@example.com`,
    details: `details of ${id}`,
  };
}
