/**
 * The generic REST client pieces a backend builds on (PagerDuty, Opsgenie, JSM):
 *
 *   RestTransport        one call: auth header, extra headers, error parser as parameters;
 *                        timeout, retries with jitter, the rate-limit gate, `recover` for writes
 *   HttpError & kinds    `kind`, `failure` ("transient" | "permanent"), `retryable`, `status`,
 *                        `code`, `apiMessage`, `details`, `networkCause`; messages name the URL
 *   createHttpClient     custom CA file and/or proxy
 *   LookupCache, TokenBucket, Clock
 *
 * This folder imports only src/ops: never a backend, never the core.
 */
export * from "./cache.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./rate_limiter.ts";
export * from "./transport.ts";
