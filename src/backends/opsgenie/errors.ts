/**
 * Opsgenie's names for the generic HTTP errors (src/http/errors.ts), as PagerDuty's
 * (../pagerduty/errors.ts): the same classes, so `kind`, `failure` ("transient" |
 * "permanent") and messages come from there. Plus the two outcomes of Opsgenie's
 * asynchronous writes that are not HTTP failures: processed and refused, or not
 * processed yet.
 */
import { type Failure, HttpError } from "../../http/errors.ts";

export {
  HttpAuthError as OpsgenieAuthError,
  HttpError as OpsgenieError,
  HttpInvalidError as OpsgenieInvalidError,
  HttpNetworkError as OpsgenieNetworkError,
  HttpNotFoundError as OpsgenieNotFoundError,
  HttpRateLimitError as OpsgenieRateLimitError,
  HttpServerError as OpsgenieServerError,
  HttpTimeoutError as OpsgenieTimeoutError,
} from "../../http/errors.ts";

/** Opsgenie processed the request and refused it (its request status says why): permanent. */
export class OpsgenieRefusedError extends HttpError {}

/** Opsgenie had not processed the request when the client stopped asking: a later pass asks again. */
export class OpsgeniePendingError extends HttpError {
  override get failure(): Failure {
    return "transient";
  }
}

/** `Retry-After`, or Opsgenie's `X-RateLimit-Period-In-Sec` on a throttled answer (seconds). */
export function opsgenieRetryAfterMs(headers: Headers): number | undefined {
  for (const name of ["retry-after", "x-ratelimit-period-in-sec"]) {
    const seconds = Number(headers.get(name) ?? NaN);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  }
  return undefined;
}

/** Opsgenie's error body `{"message","took","requestId"}`: the request id goes to the details, for support. */
export function parseOpsgenieError(text: string): { message?: string; details?: string[] } {
  const body = JSON.parse(text) as Record<string, unknown> | null;
  return {
    message: typeof body?.message === "string" ? body.message : undefined,
    details: typeof body?.requestId === "string" ? [`request ${body.requestId}`] : undefined,
  };
}
