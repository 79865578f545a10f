/**
 * Errors are classified once, where they arise (the adapters), and the core only
 * reads the class:
 * - transient: network, timeouts, 5xx, 429, Teleport unavailable, CAS conflicts —
 *   retried with backoff;
 * - permanent: unknown service or user, other 4xx, NotFound, AccessDenied — logged
 *   once with the reason, recorded, and retried only when the request changes or a
 *   slow recheck comes round.
 * An error without a class is transient: retrying a surprise is safer than dropping work.
 */

export type Failure = "transient" | "permanent";

/** What kind of refusal a permanent error is, where callers act on the difference. */
export type Refusal = "access-denied" | "not-found" | "not-implemented" | "invalid";

/** An error whose adapter said how to treat it. */
export interface Classified {
  readonly failure: Failure;
  /** The Auth Service could not be reached: wait on the shared circuit, not per request. */
  readonly unavailable?: boolean;
  readonly refusal?: Refusal;
}

/** A compare-and-swap write lost to a concurrent writer: re-read and try again. */
export class ConflictError extends Error implements Classified {
  readonly failure = "transient" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A backend refusal that no retry can fix (e.g. an unknown service). */
export class PermanentError extends Error implements Classified {
  readonly failure = "permanent" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

function isClassified(error: unknown): error is Classified {
  const failure = (error as Partial<Classified> | null)?.failure;
  return failure === "transient" || failure === "permanent";
}

/** The class of any thrown value. */
export function failureOf(error: unknown): Failure {
  return isClassified(error) ? error.failure : "transient";
}

/** Whether the error says the Auth Service is unreachable. */
export function isUnavailable(error: unknown): boolean {
  return isClassified(error) && error.unavailable === true;
}

/** The kind of refusal, when the adapter said. */
export function refusalOf(error: unknown): Refusal | undefined {
  return isClassified(error) ? error.refusal : undefined;
}

const BACKEND_ERRORS = new WeakSet<object>();

/** Marks an error as the backend's (its API failed), so the controller can wait on the backend's circuit. */
export function markBackend<T>(error: T): T {
  if (typeof error === "object" && error !== null) BACKEND_ERRORS.add(error);
  return error;
}

/** Whether the error came from a backend call. */
export function fromBackend(error: unknown): boolean {
  return typeof error === "object" && error !== null && BACKEND_ERRORS.has(error);
}

/** The message of any thrown value. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
