/**
 * Typed errors for Teleport API failures. gRPC status codes map back to the trace
 * error kinds the Auth Service raised (gravitational/trace `trail`), and the
 * server's message is kept verbatim: callers match on it (e.g. "has already
 * reviewed this request").
 */
import { status } from "@grpc/grpc-js";

export class TeleportError extends Error {
  constructor(message: string, readonly grpcCode?: status, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends TeleportError {}
export class AlreadyExistsError extends TeleportError {}
export class AccessDeniedError extends TeleportError {}
/** The plugin-data CAS precondition failed: re-read and retry (see casRetry). */
export class CompareFailedError extends TeleportError {}
export class BadParameterError extends TeleportError {}
export class LimitExceededError extends TeleportError {}
export class ConnectionProblemError extends TeleportError {}
export class NotImplementedError extends TeleportError {}
/** Credentials missing, unreadable, malformed or expired. */
export class CredentialsError extends TeleportError {}
/** The Auth Service is older than the plugin supports. */
export class IncompatibleVersionError extends TeleportError {}

type ErrorClass = new (message: string, code?: status, options?: ErrorOptions) => TeleportError;

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
  if (error instanceof TeleportError || !isGrpcStatus(error)) return error;
  const ErrorType = BY_CODE[error.code] ?? TeleportError;
  // `details` is the server's message; grpc-js prefixes `message` with "<code> <NAME>: ".
  return new ErrorType(error.details || error.message || `gRPC status ${error.code}`, error.code, {
    cause: error,
  });
}
