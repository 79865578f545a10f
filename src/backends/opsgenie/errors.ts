/**
 * Typed Opsgenie errors. Every non-2xx answer and every transport failure becomes an
 * OpsgenieError whose `kind` says what went wrong and whose `failure` tells the core
 * whether trying again later can help (see src/core/errors.ts).
 *
 * Messages carry the method, path, status and Opsgenie's own envelope
 * (`{"message","took","requestId"}`); the transport scrubs the credential first.
 */
import type { Classified, Failure } from "../../core/errors.ts";

export type OpsgenieErrorKind =
  | "auth"
  | "not_found"
  | "invalid"
  | "rate_limited"
  | "server"
  | "http"
  | "network"
  | "timeout"
  /** The asynchronous request was processed and refused (request status `isSuccess: false`). */
  | "refused"
  /** The asynchronous request was not processed within the polling budget. */
  | "pending";

const TRANSIENT_KINDS: ReadonlySet<OpsgenieErrorKind> = new Set([
  "rate_limited",
  "server",
  "network",
  "timeout",
  "pending",
]);

export interface OpsgenieErrorInit {
  method: string;
  path: string;
  status?: number;
  /** The envelope's `message`. */
  apiMessage?: string;
  /** Opsgenie's id of the failed request (envelope `requestId`), for support tickets. */
  requestId?: string;
  /** Server-requested wait before retrying (`Retry-After` or `X-RateLimit-Period-In-Sec`). */
  retryAfterMs?: number;
  cause?: unknown;
}

export class OpsgenieError extends Error implements Classified {
  readonly kind: OpsgenieErrorKind = "http";
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly apiMessage: string;
  readonly requestId: string;
  readonly retryAfterMs?: number;

  constructor(init: OpsgenieErrorInit, summary?: string) {
    super(describe(init, summary), { cause: init.cause });
    this.name = new.target.name;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.apiMessage = init.apiMessage ?? "";
    this.requestId = init.requestId ?? "";
    this.retryAfterMs = init.retryAfterMs;
  }

  /** transient: 429, 5xx, 408, network, timeout, still processing; permanent: everything else. */
  get failure(): Failure {
    return TRANSIENT_KINDS.has(this.kind) || this.status === 408 ? "transient" : "permanent";
  }

  /** Whether the transport retries this failure itself. */
  get retryable(): boolean {
    return this.failure === "transient" && this.kind !== "pending";
  }
}

/** 401/403: the API key is wrong, disabled, or lacks the right (e.g. a team key and another team's schedule). */
export class OpsgenieAuthError extends OpsgenieError {
  override readonly kind = "auth";
}

/** 404. */
export class OpsgenieNotFoundError extends OpsgenieError {
  override readonly kind = "not_found";
}

/** 400/402/422: Opsgenie rejected the request's content or the plan does not allow it. */
export class OpsgenieInvalidError extends OpsgenieError {
  override readonly kind = "invalid";
}

/** 429. */
export class OpsgenieRateLimitError extends OpsgenieError {
  override readonly kind = "rate_limited";
}

/** 5xx. */
export class OpsgenieServerError extends OpsgenieError {
  override readonly kind = "server";
}

/** The connection failed or broke before a complete response arrived. */
export class OpsgenieNetworkError extends OpsgenieError {
  override readonly kind = "network";
}

/** The per-request timeout elapsed. */
export class OpsgenieTimeoutError extends OpsgenieError {
  override readonly kind = "timeout";
}

/** Opsgenie processed the request and refused it (its request status says why). */
export class OpsgenieRefusedError extends OpsgenieError {
  override readonly kind = "refused";
}

/** Opsgenie had not processed the request when we stopped asking; a later pass asks again. */
export class OpsgeniePendingError extends OpsgenieError {
  override readonly kind = "pending";
}

/** Maps an HTTP status to the matching error class. */
export function errorForStatus(init: OpsgenieErrorInit & { status: number }): OpsgenieError {
  const { status } = init;
  if (status === 401 || status === 403) return new OpsgenieAuthError(init);
  if (status === 404) return new OpsgenieNotFoundError(init);
  if (status === 400 || status === 402 || status === 422) return new OpsgenieInvalidError(init);
  if (status === 429) return new OpsgenieRateLimitError(init);
  if (status >= 500) return new OpsgenieServerError(init);
  return new OpsgenieError(init);
}

function describe(init: OpsgenieErrorInit, summary?: string): string {
  const parts = [`Opsgenie ${init.method} ${init.path}:`];
  if (init.status !== undefined) parts.push(`HTTP ${init.status}`);
  if (init.apiMessage) parts.push(init.apiMessage);
  if (summary) parts.push(summary);
  if (init.requestId) parts.push(`(request ${init.requestId})`);
  if (parts.length === 1) parts.push("request failed");
  return parts.join(" ");
}
