/**
 * Every non-2xx answer and every transport failure surfaces as a typed error carrying
 * PagerDuty's envelope (`{"error":{code,message,errors}}`) — never as an empty success.
 */
import assert from "node:assert/strict";
import {
  errorForStatus,
  PagerDutyAuthError,
  PagerDutyClient,
  PagerDutyError,
  PagerDutyInvalidError,
  PagerDutyNetworkError,
  PagerDutyNotFoundError,
  PagerDutyRateLimitError,
  PagerDutyServerError,
  PagerDutyTimeoutError,
} from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, incidentInput, withDouble } from "./helpers.ts";

const NO_RETRY = { retry: { deadlineMs: 0 } };

Deno.test("a wrong API key fails the health check with an auth error", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, { apiKey: "not-the-key" });
    const err = await client.healthCheck().catch((e) => e);
    assert.ok(err instanceof PagerDutyAuthError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 2006);
    assert.equal(err.apiMessage, "Authentication failed");
    assert.equal(err.message, `PagerDuty GET ${pd.url}/abilities: HTTP 401 code 2006 Authentication failed`);
  }));

Deno.test("403 is an auth error, 404 not found, 400/422 invalid, 429 rate limited, 5xx server", () => {
  const base = { method: "GET", path: "/x" };
  assert.ok(errorForStatus({ ...base, status: 403 }) instanceof PagerDutyAuthError);
  assert.ok(errorForStatus({ ...base, status: 404 }) instanceof PagerDutyNotFoundError);
  assert.ok(errorForStatus({ ...base, status: 400 }) instanceof PagerDutyInvalidError);
  assert.ok(errorForStatus({ ...base, status: 422 }) instanceof PagerDutyInvalidError);
  assert.ok(errorForStatus({ ...base, status: 429 }) instanceof PagerDutyRateLimitError);
  assert.ok(errorForStatus({ ...base, status: 503 }) instanceof PagerDutyServerError);
  const other = errorForStatus({ ...base, status: 402 });
  assert.equal(other.constructor, PagerDutyError);
  assert.equal(other.retryable, false);
});

Deno.test("a note on an unknown incident is a not-found error", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const err = await client.addNote("QNOPE", "hi").catch((e) => e);
    assert.ok(err instanceof PagerDutyNotFoundError);
    assert.deepEqual(err.details, ["Incident Not Found"]);
  }));

Deno.test("an incident for an unknown service is an invalid-input error with PagerDuty's details", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const err = await client.createIncident(incidentInput("PNOSUCH", "r1")).catch((e) => e);
    assert.ok(err instanceof PagerDutyInvalidError);
    assert.equal(err.code, 2001);
    assert.deepEqual(err.details, ["Service not found."]);
    assert.equal(
      err.message,
      `PagerDuty POST ${pd.url}/incidents: HTTP 400 code 2001 Invalid Input Provided (Service not found.)`,
    );
  }));

Deno.test("a persistent 429 ends as a rate-limit error once the deadline is spent", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, { retry: { deadlineMs: 100, baseDelayMs: 5, maxDelayMs: 10 } });
    pd.inject429({});
    const err = await client.healthCheck().catch((e) => e);
    assert.ok(err instanceof PagerDutyRateLimitError);
    assert.ok(pd.requests.length > 1, "retried before giving up");
  }));

Deno.test("a persistent 503 ends as a server error", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, NO_RETRY);
    pd.inject5xx({}, 503);
    const err = await client.healthCheck().catch((e) => e);
    assert.ok(err instanceof PagerDutyServerError);
    assert.equal(err.status, 503);
  }));

Deno.test("a dropped connection is a network error", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, NO_RETRY);
    pd.injectConnectionReset({});
    const err = await client.healthCheck().catch((e) => e);
    assert.ok(err instanceof PagerDutyNetworkError, String(err));
    assert.equal(err.status, undefined);
  }));

Deno.test("an unreachable endpoint is a network error", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  using client = new PagerDutyClient(
    { apiKey: "k", userEmail: "bot@example.com", apiEndpoint: `http://127.0.0.1:${port}` },
    NO_RETRY,
  );
  await assert.rejects(client.healthCheck(), PagerDutyNetworkError);
});

Deno.test("a response slower than requestTimeout is a timeout error", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, { requestTimeout: 50 }, NO_RETRY);
    pd.injectLatency({}, 300);
    const err = await client.healthCheck().catch((e) => e);
    assert.ok(err instanceof PagerDutyTimeoutError);
    assert.match(err.message, /no response within 50 ms/);
  }));

Deno.test("a 2xx body that is not JSON is a non-retryable protocol error", async () => {
  let calls = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    calls++;
    return new Response("<html>proxy login</html>", { status: 200 });
  });
  using client = new PagerDutyClient({
    apiKey: "k",
    userEmail: "bot@example.com",
    apiEndpoint: `http://127.0.0.1:${server.addr.port}`,
  });
  const err = await client.healthCheck().catch((e) => e);
  assert.ok(err instanceof PagerDutyError);
  assert.equal(err.retryable, false);
  assert.match(err.message, /not JSON/);
  assert.equal(calls, 1);
});

Deno.test("a caller's abort signal stops an operation that is waiting to retry", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, {
      retry: { deadlineMs: 10_000, baseDelayMs: 5_000, maxDelayMs: 5_000 },
    });
    pd.inject5xx({});
    const abort = new AbortController();
    const pending = client.healthCheck({ signal: abort.signal });
    await pd.waitFor(() => pd.requests.length === 1);
    abort.abort(new Error("shutting down"));
    await assert.rejects(pending, /shutting down/);
  }));
