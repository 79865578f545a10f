/** Opsgenie's error envelope and throttle headers, read into the generic HTTP errors. */
import assert from "node:assert/strict";
import {
  OpsgeniePendingError,
  OpsgenieRefusedError,
  opsgenieRetryAfterMs,
  parseOpsgenieError,
} from "../../../src/backends/opsgenie/mod.ts";
import { failureOf } from "../../../src/core/errors.ts";

Deno.test("a throttled answer's wait: Retry-After, else X-RateLimit-Period-In-Sec", () => {
  assert.equal(opsgenieRetryAfterMs(new Headers({ "retry-after": "2" })), 2_000);
  assert.equal(opsgenieRetryAfterMs(new Headers({ "x-ratelimit-period-in-sec": "60" })), 60_000);
  assert.equal(opsgenieRetryAfterMs(new Headers({ "x-ratelimit-state": "THROTTLED" })), undefined);
});

Deno.test("the error body's message, and its request id for support", () => {
  assert.deepEqual(
    parseOpsgenieError('{"message":"Could not authenticate","took":0.001,"requestId":"r-1"}'),
    {
      message: "Could not authenticate",
      details: ["request r-1"],
    },
  );
});

Deno.test("a refused asynchronous request is permanent; one not processed yet is transient", () => {
  const init = { service: "Opsgenie", method: "GET", path: "/alerts/requests/r-1" };
  assert.equal(
    failureOf(new OpsgenieRefusedError(init, "request failed: Alert does not exist")),
    "permanent",
  );
  assert.equal(failureOf(new OpsgeniePendingError(init, "request not processed yet")), "transient");
});
