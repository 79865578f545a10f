/**
 * The startup PagerDuty check (src/run.ts checkPagerDuty): a bad key is fatal; any other
 * failure is logged in one line naming the endpoint, the cause and the key to check, and
 * the check stops at its deadline instead of retrying in the background.
 */
import assert from "node:assert/strict";
import { PagerDutyClient } from "../src/backends/pagerduty/client.ts";
import { PagerDutyDouble } from "../src/doubles/pagerduty_double.ts";
import { TestPki } from "../src/doubles/pki.ts";
import { checkPagerDuty } from "../src/run.ts";
import { VirtualClock } from "./http/virtual_clock.ts";
import { captureLogs } from "./ops/capture_logs.ts";

const API_KEY = "u+TEST_pd_api_key_0123";

/**
 * Runs the check against `apiEndpoint`; returns the rendered warnings it logged. By
 * default the client gives up after one attempt, so a slow resolver cannot turn the
 * cause into a deadline; the deadline test sets both budgets itself.
 */
async function check(
  apiEndpoint: string,
  options: { apiKey?: string; clock?: VirtualClock; deadlineMs?: number; retryDeadlineMs?: number } = {},
): Promise<string[]> {
  const records = await captureLogs(async () => {
    using client = new PagerDutyClient(
      { apiKey: options.apiKey ?? API_KEY, userEmail: "bot@example.com", apiEndpoint, requestTimeout: 5_000 },
      {
        clock: options.clock,
        retry: { deadlineMs: options.retryDeadlineMs ?? 0, baseDelayMs: 5, maxDelayMs: 5 },
      },
    );
    await checkPagerDuty(client, options.deadlineMs ?? 10_000);
  }, "warning");
  return records.map((r) => r.message.map(String).join(""));
}

async function withDouble(fn: (pd: PagerDutyDouble) => Promise<void>, tls?: { cert: string; key: string }) {
  const pd = await PagerDutyDouble.start({ apiKey: API_KEY, tls });
  try {
    await fn(pd);
  } finally {
    await pd.close();
  }
}

Deno.test("refused: the warning names the endpoint, the cause and pagerduty.api_endpoint", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const endpoint = `http://127.0.0.1:${listener.addr.port}`;
  listener.close();
  const [warning, ...rest] = await check(endpoint);
  assert.deepEqual(rest, []);
  assert.match(warning, /^PagerDuty API health check failed, continuing \(.*check pagerduty\.api_endpoint\)/);
  assert.match(
    warning,
    new RegExp(`PagerDuty GET ${endpoint}/abilities: .*connection refused by 127\\.0\\.0\\.1:`),
  );
  assert.doesNotMatch(warning, /operation was aborted/);
});

Deno.test("DNS: the warning names the host that did not resolve", async () => {
  const [warning] = await check("https://pagerduty-api.invalid");
  assert.match(
    warning,
    /PagerDuty GET https:\/\/pagerduty-api\.invalid\/abilities: .*DNS lookup of pagerduty-api\.invalid failed/,
  );
});

Deno.test("TLS: an untrusted certificate points at pagerduty.ca_file", async () => {
  const pki = await TestPki.create("untrusted-ca");
  const identity = await pki.issueServerCert([{ type: "ip", value: "127.0.0.1" }]);
  await withDouble(async (pd) => {
    const [warning] = await check(pd.url);
    assert.match(warning, /check pagerduty\.ca_file/);
    assert.match(
      warning,
      /TLS with 127\.0\.0\.1:\d+ failed: the server's certificate is not signed by a trusted CA/,
    );
  }, { cert: identity.certPem, key: identity.keyPem });
});

Deno.test("401: a bad key is fatal, naming pagerduty.api_key and the endpoint, never the key", () =>
  withDouble(async (pd) => {
    const err = await check(pd.url, { apiKey: "wrong-key-0123" }).catch((e) => e);
    assert.ok(err instanceof Error);
    assert.equal(
      err.message,
      `api health check failed, check pagerduty.api_key: PagerDuty GET ${pd.url}/abilities: ` +
        "HTTP 401 code 2006 Authentication failed",
    );
  }));

Deno.test("the deadline cancels the check: nothing keeps retrying in the background", () =>
  withDouble(async (pd) => {
    const clock = new VirtualClock();
    pd.inject5xx({}, 503);
    const [warning] = await check(pd.url, { clock, deadlineMs: 200, retryDeadlineMs: 60_000 });
    assert.match(warning, /the caller's deadline passed while retrying; last failure: HTTP 503/);
    assert.deepEqual(clock.sleepers, [], "no retry is scheduled any more");
    await clock.run();
    assert.equal(pd.requests.length, 1);
  }));
