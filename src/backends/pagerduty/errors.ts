/**
 * Typed PagerDuty errors. Every non-2xx answer and every transport failure becomes one
 * of these, so callers can branch on the class (or `kind`) instead of parsing text.
 *
 * Messages are built from the method, path, status and PagerDuty's own envelope
 * (`{"error":{"code","message","errors"}}`); the client scrubs the API key from any
 * text before it reaches an error (see `redact`).
 */

export type PagerDutyErrorKind =
  | "auth"
  | "not_found"
  | "invalid"
  | "rate_limited"
  | "server"
  | "http"
  | "network"
  | "timeout";

/** Failures a later identical attempt may get past. */
const RETRYABLE_KINDS: ReadonlySet<PagerDutyErrorKind> = new Set([
  "rate_limited",
  "server",
  "network",
  "timeout",
]);

/** The parts of a failed call that every error carries. */
export interface PagerDutyErrorInit {
  method: string;
  path: string;
  status?: number;
  /** PagerDuty's numeric error code from the envelope (e.g. 2001 "Invalid Input Provided"). */
  code?: number;
  /** The envelope's `message`. */
  apiMessage?: string;
  /** The envelope's `errors` list. */
  details?: string[];
  /** Server-requested wait before retrying, from `Retry-After` / `ratelimit-reset`. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class PagerDutyError extends Error {
  readonly kind: PagerDutyErrorKind = "http";
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly code?: number;
  readonly apiMessage: string;
  readonly details: string[];
  readonly retryAfterMs?: number;

  constructor(init: PagerDutyErrorInit, summary?: string) {
    super(describe(init, summary), { cause: init.cause });
    this.name = new.target.name;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.code = init.code;
    this.apiMessage = init.apiMessage ?? "";
    this.details = init.details ?? [];
    this.retryAfterMs = init.retryAfterMs;
  }

  /** Whether a later identical attempt may succeed (rate limit, server or transport trouble). */
  get retryable(): boolean {
    return RETRYABLE_KINDS.has(this.kind);
  }

  /** For the core: transient failures are retried with backoff, permanent ones recorded (408 is transient). */
  get failure(): "transient" | "permanent" {
    return this.retryable || this.status === 408 ? "transient" : "permanent";
  }
}

/** 401/403: the API key is wrong, revoked, or lacks the permission. */
export class PagerDutyAuthError extends PagerDutyError {
  override readonly kind = "auth";
}

/** 404. */
export class PagerDutyNotFoundError extends PagerDutyError {
  override readonly kind = "not_found";
}

/** 400/422: PagerDuty rejected the request's content. */
export class PagerDutyInvalidError extends PagerDutyError {
  override readonly kind = "invalid";
}

/** 429. */
export class PagerDutyRateLimitError extends PagerDutyError {
  override readonly kind = "rate_limited";
}

/** 5xx. */
export class PagerDutyServerError extends PagerDutyError {
  override readonly kind = "server";
}

/** The connection failed or broke before a complete response arrived. */
export class PagerDutyNetworkError extends PagerDutyError {
  override readonly kind = "network";
}

/** The per-request timeout elapsed. */
export class PagerDutyTimeoutError extends PagerDutyError {
  override readonly kind = "timeout";
}

/** Maps an HTTP status to the matching error class. */
export function errorForStatus(init: PagerDutyErrorInit & { status: number }): PagerDutyError {
  const { status } = init;
  if (status === 401 || status === 403) return new PagerDutyAuthError(init);
  if (status === 404) return new PagerDutyNotFoundError(init);
  if (status === 400 || status === 422) return new PagerDutyInvalidError(init);
  if (status === 429) return new PagerDutyRateLimitError(init);
  if (status >= 500) return new PagerDutyServerError(init);
  return new PagerDutyError(init);
}

/** Replaces every occurrence of `secret` in `text`; a no-op for an empty secret. */
export function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join("[REDACTED]") : text;
}

function describe(init: PagerDutyErrorInit, summary?: string): string {
  const parts = [`PagerDuty ${init.method} ${init.path}:`];
  if (init.status !== undefined) parts.push(`HTTP ${init.status}`);
  if (init.code !== undefined) parts.push(`code ${init.code}`);
  if (init.apiMessage) parts.push(init.apiMessage);
  if (init.details?.length) parts.push(`(${init.details.join("; ")})`);
  if (summary) parts.push(summary);
  if (parts.length === 1) parts.push("request failed");
  return parts.join(" ");
}
