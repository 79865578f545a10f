/** gRPC statuses are classified once, here: what the core retries, waits out, or records. */
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { ConflictError, failureOf, isUnavailable } from "../../src/core/errors.ts";
import { fromGrpcError } from "../../src/teleport/errors.ts";

const grpcError = (code: status, details: string) => Object.assign(new Error(details), { code, details });

Deno.test("unreachable or slow Auth Service: transient, and the shared circuit waits it out", () => {
  for (const code of [status.UNAVAILABLE, status.DEADLINE_EXCEEDED]) {
    const error = fromGrpcError(grpcError(code, "connection refused"));
    assert.equal(failureOf(error), "transient", status[code]);
    assert.equal(isUnavailable(error), true, status[code]);
  }
});

Deno.test("refusals no retry can fix are permanent", () => {
  for (
    const code of [
      status.PERMISSION_DENIED,
      status.UNAUTHENTICATED,
      status.NOT_FOUND,
      status.INVALID_ARGUMENT,
    ]
  ) {
    const error = fromGrpcError(grpcError(code, "no"));
    assert.equal(failureOf(error), "permanent", status[code]);
    assert.equal(isUnavailable(error), false, status[code]);
  }
});

Deno.test("a lost compare-and-swap is the core's conflict; other server trouble is transient", () => {
  assert.ok(
    fromGrpcError(grpcError(status.FAILED_PRECONDITION, "expectations not met")) instanceof ConflictError,
  );
  for (const code of [status.INTERNAL, status.UNKNOWN, status.RESOURCE_EXHAUSTED, status.ABORTED]) {
    assert.equal(failureOf(fromGrpcError(grpcError(code, "hmm"))), "transient", status[code]);
  }
});
