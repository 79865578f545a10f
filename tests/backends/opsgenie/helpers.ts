/** Shared setup for the Opsgenie backend tests. */
import assert from "node:assert/strict";
import { createOpsgenieClient, type OpsgenieClientOptions } from "../../../src/backends/opsgenie/mod.ts";
import { OpsgenieDouble } from "../../../src/doubles/opsgenie_double.ts";

/** A client wired to the double, with retries, polling and rate limits shrunk so tests stay fast. */
export function clientFor(og: OpsgenieDouble, options: OpsgenieClientOptions = {}) {
  return createOpsgenieClient(
    { apiKey: og.apiKey, apiEndpoint: og.url, rateLimitPerMinute: 600_000, requestTimeout: 2_000 },
    {
      retry: { deadlineMs: 5_000, baseDelayMs: 2, maxDelayMs: 20 },
      poll: { firstDelayMs: 2, maxDelayMs: 10 },
      ...options,
    },
  );
}

/** Starts a double, runs `fn`, checks it saw no contract violation, and always closes it. */
export async function withDouble(fn: (og: OpsgenieDouble) => Promise<void>): Promise<void> {
  const og = await OpsgenieDouble.start();
  try {
    await fn(og);
    assert.deepEqual(og.violations, [], "Opsgenie contract violations");
  } finally {
    await og.close();
  }
}

/** The calls the double received, as "METHOD /path". */
export function calls(og: OpsgenieDouble): string[] {
  return og.requests.map((r) => `${r.method} ${r.path}`);
}
