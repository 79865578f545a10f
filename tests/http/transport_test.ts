/**
 * RestTransport: one REST call, with what differs per API as parameters (Authorization,
 * extra headers, the error envelope), one rate-limit gate for the whole client, and
 * failures that name the endpoint and the cause.
 */
import assert from "node:assert/strict";
import { PagerDutyDouble } from "../../src/doubles/pagerduty_double.ts";
import { TestPki } from "../../src/doubles/pki.ts";
import { HttpError, HttpInvalidError, HttpNetworkError, HttpTimeoutError } from "../../src/http/errors.ts";
import { RestTransport, type RestTransportOptions } from "../../src/http/transport.ts";
import { VirtualClock } from "./virtual_clock.ts";

const PD_ACCEPT = "application/vnd.pagerduty+json;version=2";

/** A transport speaking PagerDuty's dialect to `url`. */
function pagerDuty(url: string, apiKey: string, options: Partial<RestTransportOptions> = {}): RestTransport {
  return new RestTransport({
    service: "PagerDuty",
    endpoint: url,
    secret: apiKey,
    authorization: `Token token=${apiKey}`,
    headers: (spec) => ({ Accept: PD_ACCEPT, From: spec.method === "GET" ? undefined : "bot@example.com" }),
    ratePerMinute: 600_000,
    requestTimeoutMs: 2_000,
    retry: { deadlineMs: 10_000, baseDelayMs: 2, maxDelayMs: 20 },
    ...options,
  });
}

async function withDouble(fn: (pd: PagerDutyDouble) => Promise<void>, tls?: { cert: string; key: string }) {
  const pd = await PagerDutyDouble.start({ tls });
  try {
    await fn(pd);
  } finally {
    await pd.close();
  }
}

interface Received {
  url: string;
  headers: Headers;
}

/** A loopback server answering every request with `respond`; records what it received. */
async function withServer(
  respond: () => Response,
  fn: (url: string, received: Received[]) => Promise<void>,
): Promise<void> {
  const received: Received[] = [];
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    received.push({ url: req.url, headers: new Headers(req.headers) });
    return respond();
  });
  await fn(`http://127.0.0.1:${server.addr.port}`, received);
}

function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("a 429 with a reset pauses the whole client: a second call waits for the gate too", () =>
  withDouble(async (pd) => {
    const clock = new VirtualClock();
    const transport = pagerDuty(pd.url, pd.apiKey, { clock });
    pd.inject429({ nextN: 1 }, { rateLimitResetSeconds: 2 });

    const first = transport.request({ method: "GET", path: "/abilities" });
    await clock.whenSleeping(1); // the refused call waits for the gate
    assert.equal(transport.pausedUntil, 2_000);
    const second = transport.request({ method: "GET", path: "/abilities" });
    // The new call waits for the gate too, without sending.
    const blocked = await Promise.race([clock.whenSleeping(2).then(() => true), second.then(() => false)]);
    assert.ok(blocked, "the second call went through while the client was paused");
    assert.deepEqual(clock.sleepers, [2_000, 2_000]);
    assert.equal(pd.requests.length, 1);

    await clock.advanceTo(1_999);
    assert.equal(pd.requests.length, 1, "nothing is sent before the gate opens");
    await clock.advanceTo(2_000);
    await Promise.all([first, second]);
    assert.deepEqual(pd.requests.map((r) => r.status), [429, 200, 200]);
  }));

Deno.test("ratelimit-remaining 0 on a success pauses the client until the reset, without a 429", () =>
  withDouble(async (pd) => {
    const clock = new VirtualClock();
    const transport = pagerDuty(pd.url, pd.apiKey, { clock });
    pd.setServerRateLimit({ limit: 2, windowMs: 60_000 });
    await transport.request({ method: "GET", path: "/abilities" });
    await transport.request({ method: "GET", path: "/abilities" }); // remaining: 0, reset: 60
    assert.equal(transport.pausedUntil, 60_000);
    const third = transport.request({ method: "GET", path: "/abilities" });
    await clock.whenSleeping(1);
    assert.deepEqual(clock.sleepers, [60_000]);
    assert.deepEqual(pd.requests.map((r) => r.status), [200, 200], "nothing sent into a 429");
    pd.setServerRateLimit(null);
    await clock.advanceTo(60_000);
    await third;
    assert.deepEqual(pd.requests.map((r) => r.status), [200, 200, 200]);
  }));

Deno.test("the Authorization value, extra headers and error parser are the caller's", () =>
  withServer(
    () =>
      Response.json({ message: "Key s3cr3t-genie-key is invalid", took: 0.001, requestId: "r-1" }, {
        status: 422,
      }),
    async (url, received) => {
      const transport = new RestTransport({
        service: "Opsgenie",
        endpoint: `${url}/`,
        secret: "s3cr3t-genie-key",
        authorization: "GenieKey s3cr3t-genie-key",
        headers: () => ({ "X-Extra": "yes" }),
        parseError: (body) => ({ message: JSON.parse(body).message, code: JSON.parse(body).requestId }),
        ratePerMinute: 600,
      });
      const err = await transport.request({
        method: "POST",
        path: "/v2/alerts",
        query: [["identifierType", "alias"], ["tags[]", "a b"]],
        body: { message: "hi" },
      }).catch((e) => e);
      assert.ok(err instanceof HttpInvalidError);
      assert.equal(err.failure, "permanent");
      assert.equal(
        err.message,
        `Opsgenie POST ${url}/v2/alerts: HTTP 422 code r-1 Key [REDACTED] is invalid`,
      );
      const [req] = received;
      assert.equal(req.headers.get("authorization"), "GenieKey s3cr3t-genie-key");
      assert.equal(req.headers.get("x-extra"), "yes");
      assert.equal(req.headers.get("content-type"), "application/json");
      assert.equal(new URL(req.url).search, "?identifierType=alias&tags[]=a%20b");
      assert.equal(received.length, 1, "a permanent failure is not retried");
    },
  ));

Deno.test("connection refused names the endpoint and the cause", async () => {
  const url = `http://127.0.0.1:${closedPort()}`;
  const err = await pagerDuty(url, "test-api-key", { retry: { deadlineMs: 0 } })
    .request({ method: "GET", path: "/abilities" }).catch((e) => e);
  assert.ok(err instanceof HttpNetworkError);
  assert.equal(err.networkCause, "refused");
  assert.equal(err.failure, "transient");
  assert.match(
    err.message,
    new RegExp(`^PagerDuty GET ${url}/abilities: connection refused by 127\\.0\\.0\\.1:\\d+`),
  );
});

Deno.test("an unknown host is a DNS failure naming the host", async () => {
  const err = await pagerDuty("https://pagerduty-api.invalid", "test-api-key", { retry: { deadlineMs: 0 } })
    .request({ method: "GET", path: "/abilities" }).catch((e) => e);
  assert.ok(err instanceof HttpNetworkError);
  assert.equal(err.networkCause, "dns");
  assert.equal(
    err.message,
    "PagerDuty GET https://pagerduty-api.invalid/abilities: DNS lookup of pagerduty-api.invalid failed " +
      "(is the host name right?)",
  );
});

Deno.test("a server certificate nobody trusts is a TLS failure, not a timeout", async () => {
  const pki = await TestPki.create("untrusted-ca");
  const identity = await pki.issueServerCert([{ type: "ip", value: "127.0.0.1" }]);
  await withDouble(async (pd) => {
    const err = await pagerDuty(pd.url, pd.apiKey, { retry: { deadlineMs: 0 } })
      .request({ method: "GET", path: "/abilities" }).catch((e) => e);
    assert.ok(err instanceof HttpNetworkError, String(err));
    assert.equal(err.networkCause, "tls");
    assert.equal(
      err.message,
      `PagerDuty GET ${pd.url}/abilities: TLS with ${new URL(pd.url).host} failed: ` +
        "the server's certificate is not signed by a trusted CA",
    );
  }, { cert: identity.certPem, key: identity.keyPem });
});

Deno.test("the caller's deadline ends retries with a timeout naming the endpoint and the last failure", () =>
  withDouble(async (pd) => {
    const clock = new VirtualClock();
    const transport = pagerDuty(pd.url, pd.apiKey, { clock, retry: { deadlineMs: 60_000 } });
    pd.inject5xx({}, 503);
    const deadline = new AbortController();
    const call = transport.request({ method: "GET", path: "/abilities", signal: deadline.signal });
    await clock.whenSleeping(1); // backing off after the first 503
    deadline.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
    const err = await call.catch((e) => e);
    assert.ok(err instanceof HttpTimeoutError);
    assert.equal(err.failure, "transient");
    assert.equal(
      err.message,
      `PagerDuty GET ${pd.url}/abilities: the caller's deadline passed while retrying; ` +
        "last failure: HTTP 503 code 5000 Internal Server Error",
    );
    assert.deepEqual(clock.sleepers, [], "no retry left scheduled");
    assert.equal(pd.requests.length, 1);
  }));

Deno.test("any other abort (shutdown) ends the call with the abort's own reason", () =>
  withDouble(async (pd) => {
    const clock = new VirtualClock();
    const transport = pagerDuty(pd.url, pd.apiKey, { clock });
    pd.inject5xx({}, 500);
    const shutdown = new AbortController();
    const call = transport.request({ method: "GET", path: "/abilities", signal: shutdown.signal });
    await clock.whenSleeping(1);
    const reason = new Error("shutting down");
    shutdown.abort(reason);
    assert.equal(await call.catch((e) => e), reason);
  }));

Deno.test("a write whose outcome is unknown runs `recover` before it is sent again", () =>
  withServer(() => new Response("{}", { status: 502 }), async (url, received) => {
    const recovered = { id: "found" };
    const result = await pagerDuty(url, "test-api-key").request({
      method: "POST",
      path: "/incidents",
      body: {},
      recover: () => Promise.resolve(recovered),
    });
    assert.equal(result, recovered);
    assert.equal(received.length, 1);
  }));

Deno.test("a 2xx body that is not JSON is a permanent protocol error", () =>
  withServer(() => new Response("<html>proxy login</html>"), async (url) => {
    const err = await pagerDuty(url, "test-api-key").request({ method: "GET", path: "/abilities" }).catch((
      e,
    ) => e);
    assert.ok(err instanceof HttpError);
    assert.equal(err.failure, "permanent");
    assert.equal(err.message, `PagerDuty GET ${url}/abilities: HTTP 200 response body is not JSON`);
  }));
