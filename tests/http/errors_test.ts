/**
 * Every failure of a REST call is one typed error: its `kind` says what went wrong, its
 * `failure` whether the same call can succeed later (what the core reads to retry or
 * give up), and its message names the API, method and URL, then the answer or the cause.
 */
import assert from "node:assert/strict";
import {
  describeNetworkFailure,
  errorForStatus,
  HttpAuthError,
  HttpError,
  HttpInvalidError,
  HttpNetworkError,
  HttpNotFoundError,
  HttpRateLimitError,
  HttpServerError,
  HttpTimeoutError,
  redact,
} from "../../src/http/errors.ts";

const call = {
  service: "Opsgenie",
  method: "POST",
  path: "/v2/alerts",
  endpoint: "https://api.opsgenie.com/",
};

Deno.test("statuses map to kinds: 401/403 auth, 404 not found, 400/422 invalid, 429 rate limited, 5xx server", () => {
  const cases: [number, new (...args: never[]) => HttpError, string][] = [
    [401, HttpAuthError, "auth"],
    [403, HttpAuthError, "auth"],
    [404, HttpNotFoundError, "not_found"],
    [400, HttpInvalidError, "invalid"],
    [422, HttpInvalidError, "invalid"],
    [429, HttpRateLimitError, "rate_limited"],
    [500, HttpServerError, "server"],
    [503, HttpServerError, "server"],
    [402, HttpError, "http"],
    [408, HttpError, "http"],
  ];
  for (const [status, type, kind] of cases) {
    const err = errorForStatus({ ...call, status });
    assert.equal(err.constructor, type, `HTTP ${status}`);
    assert.equal(err.kind, kind, `HTTP ${status}`);
  }
});

Deno.test("transient: network, timeout, 5xx, 408, 429; permanent: every other 4xx and malformed answers", () => {
  const transient = [408, 429, 500, 502, 503, 504].map((status) => errorForStatus({ ...call, status }));
  transient.push(new HttpNetworkError(call), new HttpTimeoutError(call));
  for (const err of transient) {
    assert.equal(err.failure, "transient", err.message);
    assert.equal(err.retryable, true, err.message);
  }
  const permanent = [400, 401, 402, 403, 404, 409, 410, 422].map((status) =>
    errorForStatus({ ...call, status })
  );
  permanent.push(new HttpError({ ...call, status: 200 }, "response body is not JSON"));
  for (const err of permanent) {
    assert.equal(err.failure, "permanent", err.message);
    assert.equal(err.retryable, false, err.message);
  }
});

Deno.test("the message names the API, method and URL, then status, code, message and details", () => {
  const err = errorForStatus({
    ...call,
    status: 422,
    code: "InvalidRequest",
    apiMessage: "Request body is not processable",
    details: ["message: must not be blank", "alias: too long"],
  });
  assert.equal(
    err.message,
    "Opsgenie POST https://api.opsgenie.com/v2/alerts: HTTP 422 code InvalidRequest " +
      "Request body is not processable (message: must not be blank; alias: too long)",
  );
  assert.equal(err.summary, err.message.slice(err.message.indexOf(": ") + 2));
  assert.equal(err.name, "HttpInvalidError");
});

Deno.test("network failures are classified by cause and name the host", () => {
  // The texts Deno's fetch gives (the useful part is in the cause).
  const failed = (text: string) => new TypeError("fetch failed", { cause: new Error(text) });
  const host = "pd.example.com:443";
  const cases: [string, string, RegExp][] = [
    [
      "error sending request for url (https://pd.example.com/x): client error (Connect): tcp connect error: " +
      "Connection refused (os error 111)",
      "refused",
      /^connection refused by pd\.example\.com:443/,
    ],
    [
      "client error (Connect): dns error: failed to lookup address information: Name or service not known",
      "dns",
      /^DNS lookup of pd\.example\.com failed/,
    ],
    [
      "client error (Connect): invalid peer certificate: UnknownIssuer",
      "tls",
      /^TLS with pd\.example\.com:443 failed: the server's certificate is not signed by a trusted CA$/,
    ],
    [
      "client error (SendRequest): connection closed before message completed",
      "reset",
      /^connection to pd\.example\.com:443 closed before a complete response$/,
    ],
    ["client error (Connect): Network is unreachable (os error 101)", "unreachable", /is unreachable/],
    ["something new", "other", /^cannot reach pd\.example\.com:443: something new$/],
  ];
  for (const [text, cause, description] of cases) {
    const got = describeNetworkFailure(failed(text), host);
    assert.equal(got.cause, cause, text);
    assert.match(got.text, description);
  }
});

Deno.test("redact replaces every occurrence of the secret, and nothing for an empty one", () => {
  assert.equal(redact("key=s3cr3t, again s3cr3t", "s3cr3t"), "key=[REDACTED], again [REDACTED]");
  assert.equal(redact("unchanged", ""), "unchanged");
});
