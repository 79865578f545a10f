/**
 * Typed errors for Teleport API failures. gRPC status codes map back to the trace
 * error kinds the Auth Service raised (gravitational/trace `trail`), and the
 * server's message is kept verbatim: callers match on it (e.g. "has already
 * reviewed this request").
 */
import { status } from "@grpc/grpc-js";
import { type Classified, ConflictError, type Failure, type Refusal } from "../core/errors.ts";

/** A Teleport failure; `failure` tells the core whether a retry can help (classified once, here). */
export class TeleportError extends Error implements Classified {
  /** Unclassified server trouble (INTERNAL, UNKNOWN, ABORTED…) may pass: transient. */
  readonly failure: Failure = "transient";
  readonly unavailable: boolean = false;
  readonly refusal?: Refusal;
  constructor(message: string, readonly grpcCode?: status, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A refusal that retrying cannot change (the request, the permission or the server is wrong). */
export class PermanentTeleportError extends TeleportError {
  override readonly failure: Failure = "permanent";
}

export class NotFoundError extends PermanentTeleportError {
  override readonly refusal: Refusal = "not-found";
}
export class AlreadyExistsError extends PermanentTeleportError {}
export class AccessDeniedError extends PermanentTeleportError {
  override readonly refusal: Refusal = "access-denied";
}
/** The plugin-data CAS precondition failed: re-read and retry (see casRetry). */
export class CompareFailedError extends ConflictError {
  constructor(message: string, readonly grpcCode?: status, options?: ErrorOptions) {
    super(message, options);
  }
}
export class BadParameterError extends PermanentTeleportError {
  override readonly refusal: Refusal = "invalid";
}
export class LimitExceededError extends TeleportError {}
/** The Auth Service could not be reached or did not answer in time. */
export class ConnectionProblemError extends TeleportError {
  override readonly unavailable: boolean = true;
}
export class NotImplementedError extends PermanentTeleportError {
  override readonly refusal: Refusal = "not-implemented";
}
/** Credentials missing, unreadable, malformed or expired. */
export class CredentialsError extends PermanentTeleportError {}
/** The Auth Service is older than the plugin supports. */
export class IncompatibleVersionError extends PermanentTeleportError {}

type ErrorClass = new (message: string, code?: status, options?: ErrorOptions) => Error;

const BY_CODE: Partial<Record<status, ErrorClass>> = {
  [status.NOT_FOUND]: NotFoundError,
  [status.ALREADY_EXISTS]: AlreadyExistsError,
  [status.PERMISSION_DENIED]: AccessDeniedError,
  [status.UNAUTHENTICATED]: AccessDeniedError,
  [status.FAILED_PRECONDITION]: CompareFailedError,
  [status.INVALID_ARGUMENT]: BadParameterError,
  [status.OUT_OF_RANGE]: BadParameterError,
  [status.RESOURCE_EXHAUSTED]: LimitExceededError,
  [status.UNAVAILABLE]: ConnectionProblemError,
  [status.DEADLINE_EXCEEDED]: ConnectionProblemError,
  [status.UNIMPLEMENTED]: NotImplementedError,
};

interface GrpcStatusLike {
  code: status;
  details?: string;
  message?: string;
}

function isGrpcStatus(error: unknown): error is GrpcStatusLike {
  return typeof error === "object" && error !== null && typeof (error as GrpcStatusLike).code === "number";
}

/** Converts a grpc-js call error into the matching TeleportError (others pass through). */
export function fromGrpcError(error: unknown): unknown {
  if (error instanceof TeleportError || error instanceof ConflictError || !isGrpcStatus(error)) return error;
  const ErrorType = BY_CODE[error.code] ?? TeleportError;
  // `details` is the server's message; grpc-js prefixes `message` with "<code> <NAME>: ".
  return new ErrorType(error.details || error.message || `gRPC status ${error.code}`, error.code, {
    cause: error,
  });
}
