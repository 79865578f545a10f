/**
 * Typed errors of a REST call. Every non-2xx answer and every transport failure
 * becomes one of these, so callers branch on `kind` (what went wrong) or `failure`
 * (whether trying again later can help) instead of parsing text.
 *
 * Messages name the API, the method and the URL (never the query, which may carry
 * personal data), then the status and the API's own envelope, or the network cause.
 * The transport scrubs the secret from every text before it reaches an error.
 */

/** What went wrong, by HTTP status or transport failure. */
export type HttpErrorKind =
  | "auth"
  | "not_found"
  | "invalid"
  | "rate_limited"
  | "server"
  | "http"
  | "network"
  | "timeout";

/**
 * transient: network trouble, timeouts, 5xx, 408 and 429 — the same call may succeed later.
 * permanent: every other 4xx and malformed answers — the same call will fail again.
 */
export type Failure = "transient" | "permanent";

/** Why a connection failed, when the platform told us (see `describeNetworkFailure`). */
export type NetworkCause = "refused" | "dns" | "tls" | "reset" | "unreachable" | "other";

/** The parts of a failed call that every error carries. */
export interface HttpErrorInit {
  /** The API's name in messages ("PagerDuty", "Opsgenie"); omitted when empty. */
  service?: string;
  method: string;
  /** Path below the endpoint, starting with "/". */
  path: string;
  /** The endpoint (base URL) the call went to; named in the message when given. */
  endpoint?: string;
  status?: number;
  /** The API's error code from the envelope (PagerDuty: 2001; other APIs may use strings). */
  code?: number | string;
  /** The envelope's message. */
  apiMessage?: string;
  /** The envelope's list of details. */
  details?: string[];
  /** Server-requested wait before retrying, from `Retry-After` / `ratelimit-reset`. */
  retryAfterMs?: number;
  /** For network errors: the classified cause. */
  networkCause?: NetworkCause;
  cause?: unknown;
}

/** A failed REST call; subclasses fix `kind`. Read `failure` to decide between retrying and giving up. */
export class HttpError extends Error {
  readonly kind: HttpErrorKind = "http";
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly endpoint: string;
  readonly status?: number;
  readonly code?: number | string;
  readonly apiMessage: string;
  readonly details: string[];
  readonly retryAfterMs?: number;
  readonly networkCause?: NetworkCause;
  /** What went wrong, without the "API METHOD URL:" prefix (for nesting in other messages). */
  readonly summary: string;

  constructor(init: HttpErrorInit, summary?: string) {
    const what = describe(init, summary);
    super(`${prefix(init)}: ${what}`, { cause: init.cause });
    this.name = new.target.name;
    this.service = init.service ?? "";
    this.method = init.method;
    this.path = init.path;
    this.endpoint = init.endpoint ?? "";
    this.status = init.status;
    this.code = init.code;
    this.apiMessage = init.apiMessage ?? "";
    this.details = init.details ?? [];
    this.retryAfterMs = init.retryAfterMs;
    this.networkCause = init.networkCause;
    this.summary = what;
  }

  /** Whether a later identical call may succeed; the core reads this to retry or give up. */
  get failure(): Failure {
    return TRANSIENT_KINDS.has(this.kind) || this.status === 408 ? "transient" : "permanent";
  }

  /** Whether the transport retries this failure itself (same as `failure === "transient"`). */
  get retryable(): boolean {
    return this.failure === "transient";
  }
}

const TRANSIENT_KINDS: ReadonlySet<HttpErrorKind> = new Set(["rate_limited", "server", "network", "timeout"]);

/** 401/403: the credentials are wrong, revoked, or lack the permission. */
export class HttpAuthError extends HttpError {
  override readonly kind = "auth";
}

/** 404. */
export class HttpNotFoundError extends HttpError {
  override readonly kind = "not_found";
}

/** 400/422: the API rejected the request's content. */
export class HttpInvalidError extends HttpError {
  override readonly kind = "invalid";
}

/** 429. */
export class HttpRateLimitError extends HttpError {
  override readonly kind = "rate_limited";
}

/** 5xx. */
export class HttpServerError extends HttpError {
  override readonly kind = "server";
}

/** The connection failed or broke before a complete response arrived. */
export class HttpNetworkError extends HttpError {
  override readonly kind = "network";
}

/** No answer in time: the per-request timeout, or the caller's deadline while retrying. */
export class HttpTimeoutError extends HttpError {
  override readonly kind = "timeout";
}

/** Maps an HTTP status to the matching error class. */
export function errorForStatus(init: HttpErrorInit & { status: number }): HttpError {
  const { status } = init;
  if (status === 401 || status === 403) return new HttpAuthError(init);
  if (status === 404) return new HttpNotFoundError(init);
  if (status === 400 || status === 422) return new HttpInvalidError(init);
  if (status === 429) return new HttpRateLimitError(init);
  if (status >= 500) return new HttpServerError(init);
  return new HttpError(init);
}

/** Replaces every occurrence of `secret` in `text`; a no-op for an empty secret. */
export function redact(text: string, secret: string): string {
  return secret ? text.split(secret).join("[REDACTED]") : text;
}

/**
 * Classifies a failed `fetch` by the platform's error text (Deno reports hyper/rustls
 * errors as text only) into a cause and a one-line description naming `host`.
 */
export function describeNetworkFailure(err: unknown, host: string): { cause: NetworkCause; text: string } {
  // The URL in Deno's text ("for url (https://…)") must not decide the cause.
  const raw = errorText(err).replace(/\s*\(https?:\/\/[^)]*\)/g, "");
  if (/connection refused/i.test(raw)) {
    return { cause: "refused", text: `connection refused by ${host} (nothing listening there?)` };
  }
  if (/dns error|failed to lookup address|name or service not known|no such host/i.test(raw)) {
    return { cause: "dns", text: `DNS lookup of ${hostName(host)} failed (is the host name right?)` };
  }
  if (/certificate|tls|ssl|handshake|UnknownIssuer|BadSignature|NotValidForName/i.test(raw)) {
    return { cause: "tls", text: `TLS with ${host} failed: ${tlsDetail(raw)}` };
  }
  if (/reset|broken pipe|connection closed|IncompleteMessage|unexpected eof/i.test(raw)) {
    return { cause: "reset", text: `connection to ${host} closed before a complete response` };
  }
  if (/unreachable|no route to host|timed out/i.test(raw)) {
    return { cause: "unreachable", text: `${host} is unreachable (${lastClause(raw)})` };
  }
  return { cause: "other", text: `cannot reach ${host}: ${lastClause(raw)}` };
}

/** The error's message and its causes' messages, joined (Deno nests the useful one). */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ");
}

function tlsDetail(raw: string): string {
  const peer = /invalid peer certificate: (\w+)/i.exec(raw);
  if (peer?.[1] === "UnknownIssuer") return "the server's certificate is not signed by a trusted CA";
  if (peer?.[1] === "NotValidForName") return "the server's certificate does not name this host";
  if (peer?.[1] === "Expired") return "the server's certificate has expired";
  if (peer) return `the server's certificate was rejected (${peer[1]})`;
  return lastClause(raw);
}

/** The innermost clause of a chained error text, without an OS error number. */
function lastClause(raw: string): string {
  const clauses = raw.split(/: /).map((c) => c.trim()).filter(Boolean);
  return (clauses.at(-1) ?? raw).replace(/\s*\(os error \d+\)$/, "");
}

function hostName(host: string): string {
  return host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
}

function prefix(init: HttpErrorInit): string {
  const base = (init.endpoint ?? "").replace(/\/+$/, "");
  return [init.service, init.method, `${base}${init.path}`].filter(Boolean).join(" ");
}

function describe(init: HttpErrorInit, summary?: string): string {
  const parts: string[] = [];
  if (init.status !== undefined) parts.push(`HTTP ${init.status}`);
  if (init.code !== undefined) parts.push(`code ${init.code}`);
  if (init.apiMessage) parts.push(init.apiMessage);
  if (init.details?.length) parts.push(`(${init.details.join("; ")})`);
  if (summary) parts.push(summary);
  if (parts.length === 0) parts.push("request failed");
  return parts.join(" ");
}
