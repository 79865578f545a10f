/**
 * PagerDuty's names for the generic HTTP errors (src/http/errors.ts), kept so callers
 * and tests read in PagerDuty's terms. They are the same classes: a `PagerDutyAuthError`
 * is an `HttpAuthError`, and its `kind`, `failure` and message come from there.
 */
export {
  errorForStatus,
  HttpAuthError as PagerDutyAuthError,
  HttpError as PagerDutyError,
  type HttpErrorInit as PagerDutyErrorInit,
  type HttpErrorKind as PagerDutyErrorKind,
  HttpInvalidError as PagerDutyInvalidError,
  HttpNetworkError as PagerDutyNetworkError,
  HttpNotFoundError as PagerDutyNotFoundError,
  HttpRateLimitError as PagerDutyRateLimitError,
  HttpServerError as PagerDutyServerError,
  HttpTimeoutError as PagerDutyTimeoutError,
  redact,
} from "../../http/errors.ts";
