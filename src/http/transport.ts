/**
 * One REST call with the details every JSON-over-HTTPS backend shares: headers, query
 * encoding, a per-request timeout, error envelope parsing, the client's rate-limit gate
 * (token bucket + server-requested pauses), bounded retries with decorrelated jitter,
 * and a `recover` hook for writes whose outcome is unknown.
 *
 * What differs per API is a parameter: the Authorization header value, extra headers
 * (e.g. PagerDuty's `From` on writes), and the parser of the error envelope.
 *
 *   const transport = new RestTransport({
 *     service: "Opsgenie", endpoint: "https://api.opsgenie.com", secret: key,
 *     authorization: `GenieKey ${key}`, parseError: parseOpsgenieError,
 *   });
 *   const alert = await transport.request<{ data: unknown }>({ method: "GET", path: "/v2/alerts/x" });
 */
import { decorrelatedJitter } from "../ops/backoff.ts";
import { getLog } from "../ops/logging.ts";
import { type Clock, systemClock } from "./clock.ts";
import {
  describeNetworkFailure,
  errorForStatus,
  HttpError,
  type HttpErrorInit,
  HttpNetworkError,
  HttpTimeoutError,
  type NetworkCause,
  redact,
} from "./errors.ts";
import { proxyFor } from "./proxy.ts";
import { TokenBucket } from "./rate_limiter.ts";

/** Ordered query parameters; a key may repeat (`user_ids[]`). */
export type Query = ReadonlyArray<readonly [string, string]>;

/** The HTTP methods a REST backend uses. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** One call: method, path below the endpoint, query, JSON body, signal and the `recover` hook. */
export interface RequestSpec {
  method: Method;
  /** Path below the endpoint, starting with "/". */
  path: string;
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Aborts the call, including waits for the gate and retries. */
  signal?: AbortSignal;
  /**
   * Called before re-sending a write whose previous attempt may have been applied
   * (5xx, broken connection, timeout). A non-null result ends the call with it.
   */
  recover?: () => Promise<unknown>;
}

/** What an API's error body says; every field optional. */
export interface ErrorEnvelope {
  code?: number | string;
  message?: string;
  details?: string[];
}

/** How long one call may keep retrying, and its backoff bounds. */
export interface RetryPolicy {
  /** Total time budget of one call, retries included. */
  deadlineMs: number;
  /** Decorrelated-jitter backoff bounds for retries without a server-given delay. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** One minute of retries, backing off from 250 ms to 10 s. */
export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 60_000, baseDelayMs: 250, maxDelayMs: 10_000 };
/** Per-request timeout when the caller sets none (the Go plugins' 10 s). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Everything that differs between REST backends; see the example at the top of this file. */
export interface RestTransportOptions {
  /** The API's name in messages and logs ("PagerDuty"); its lower case is the log category. */
  service: string;
  /** Base URL; the request path is appended. */
  endpoint: string;
  /** Scrubbed from every error message (the API key). */
  secret: string;
  /** The whole Authorization header value: `Token token=…`, `GenieKey …`, `Basic …`. */
  authorization: string;
  /** Extra headers per request (Accept, `From` on writes); they win over the defaults, undefined skips. */
  headers?: (spec: RequestSpec) => Record<string, string | undefined>;
  /** Reads the API's error body; the default understands `{"message","code","errors"}`. */
  parseError?: (body: string) => ErrorEnvelope;
  /**
   * How long the server asks to wait, from an answer's headers; the default reads
   * `Retry-After` and `ratelimit-reset` (Opsgenie adds `X-RateLimit-Period-In-Sec`).
   */
  retryAfterMs?: (headers: Headers) => number | undefined;
  /** Sustained rate for the client-side token bucket. */
  ratePerMinute: number;
  /** Token-bucket size; defaults to one second's worth of the rate. */
  burst?: number;
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  clock?: Clock;
  /** Custom CA or proxy (see `createHttpClient`); the caller owns and closes it. */
  httpClient?: Deno.HttpClient;
  /**
   * The proxy `httpClient` was built with, for messages only; otherwise the transport
   * reads HTTPS_PROXY/HTTP_PROXY/NO_PROXY as `fetch` does (also with a custom client).
   */
  proxy?: string;
  /** Told of every HTTP exchange: "METHOD /path", the status (or "error"), the seconds it took. */
  observe?: (operation: string, status: number | "error", seconds: number) => void;
  /** Told of every wait for the rate-limit gate: the server closed it, or the client's own pace. */
  onRateLimitWait?: (source: "server" | "client", seconds: number) => void;
}

/** The REST calls of one client (one API key): they share one rate-limit gate. */
export class RestTransport {
  readonly #o: RestTransportOptions;
  readonly #base: string;
  readonly #host: string;
  /** The proxy the platform uses for the endpoint, named in connection failures. */
  readonly #proxy?: string;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #gate: TokenBucket;
  readonly #log;

  constructor(options: RestTransportOptions) {
    this.#o = options;
    this.#base = options.endpoint.replace(/\/+$/, "");
    this.#host = hostOf(this.#base);
    this.#proxy = options.proxy ?? proxyFor(this.#base);
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#timeoutMs = options.requestTimeoutMs || DEFAULT_REQUEST_TIMEOUT_MS;
    this.#clock = options.clock ?? systemClock;
    this.#gate = new TokenBucket(options.ratePerMinute, { burst: options.burst, clock: this.#clock });
    this.#log = getLog(options.service.toLowerCase());
  }

  /** The endpoint (base URL without a trailing slash), for messages. */
  get endpoint(): string {
    return this.#base;
  }

  /** When the server-requested pause ends (clock time), or 0 when calls may go now. */
  get pausedUntil(): number {
    return this.#gate.closedUntil;
  }

  /**
   * Sends `spec`, retrying transient failures until the retry deadline; returns the
   * parsed JSON body (null for an empty one). Throws an `HttpError`, or the signal's
   * reason when the caller aborts; a caller's deadline (a `TimeoutError` reason) becomes
   * an `HttpTimeoutError` that names the endpoint and the last failure.
   */
  async request<T>(spec: RequestSpec): Promise<T> {
    let last: HttpError | undefined;
    try {
      return await this.#withRetries<T>(spec, (err) => last = err);
    } catch (err) {
      throw this.#callerAbort(spec, err, last) ?? err;
    }
  }

  async #withRetries<T>(spec: RequestSpec, onFailure: (err: HttpError) => void): Promise<T> {
    const retry = this.#retry;
    const clock = this.#clock;
    const deadline = clock.now() + retry.deadlineMs;
    let backoff = retry.baseDelayMs;
    for (let attempt = 1;; attempt++) {
      try {
        await this.#takeGate(spec.signal);
        return await this.#send<T>(spec);
      } catch (err) {
        if (!(err instanceof HttpError) || !err.retryable) throw err;
        onFailure(err);
        // A 429 that said when the limit resets has closed the gate (see #send); this
        // call then waits for it in `take` like every other call of the client.
        const serverWait = err.kind === "rate_limited" && err.retryAfterMs !== undefined
          ? Math.max(0, this.#gate.closedUntil - clock.now())
          : undefined;
        if (serverWait === undefined) {
          backoff = decorrelatedJitter(backoff, { baseMs: retry.baseDelayMs, capMs: retry.maxDelayMs });
        }
        // A write that timed out may still be on its way through the server: give it as
        // long again before `recover` looks for it, or the check races the write.
        const settleMs = err.kind === "timeout" && spec.recover ? this.#timeoutMs : 0;
        const delay = serverWait ?? Math.max(backoff, settleMs);
        if (clock.now() + delay > deadline) throw err;
        this.#log.debug("Retrying {service} request", {
          service: this.#o.service,
          method: spec.method,
          path: spec.path,
          attempt,
          delay_ms: Math.round(delay),
          paused_client: serverWait !== undefined,
          error: err.summary,
        });
        if (serverWait === undefined) await clock.sleep(delay, spec.signal);
        if (spec.recover && mayHaveBeenApplied(err)) {
          const recovered = await spec.recover();
          if (recovered !== null && recovered !== undefined) return recovered as T;
        }
      }
    }
  }

  async #takeGate(signal?: AbortSignal): Promise<void> {
    const clock = this.#o.clock ?? systemClock;
    const before = clock.now();
    const closedByServer = this.#gate.closedUntil > before;
    await this.#gate.take(signal);
    const waitedMs = clock.now() - before;
    if (waitedMs >= 1) this.#o.onRateLimitWait?.(closedByServer ? "server" : "client", waitedMs / 1000);
  }

  async #send<T>(spec: RequestSpec): Promise<T> {
    const started = performance.now();
    let status: number | "error" = "error";
    try {
      return await this.#exchange<T>(spec, (answered) => status = answered);
    } finally {
      this.#o.observe?.(`${spec.method} ${spec.path}`, status, (performance.now() - started) / 1000);
    }
  }

  async #exchange<T>(spec: RequestSpec, answered: (status: number) => void): Promise<T> {
    const init = this.#init(spec);
    const sentIn = this.#gate.epoch;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
    try {
      const response = await fetch(this.#url(spec), {
        method: spec.method,
        headers: this.#headers(spec),
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal,
        client: this.#o.httpClient,
      });
      answered(response.status);
      this.#gate.observe(rateLimitOf(response, this.#o.retryAfterMs ?? retryAfterMs), sentIn);
      const text = await response.text();
      if (!response.ok) throw this.#httpError(init, response, text);
      return parseBody(init, response.status, text) as T;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (timeout.signal.aborted) {
        throw new HttpTimeoutError({ ...init, cause: err }, `no response within ${this.#timeoutMs} ms`);
      }
      const network = this.#describe(err);
      throw new HttpNetworkError(
        { ...init, networkCause: network.cause, cause: err },
        this.#scrub(network.text),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The cause of a failed connection, naming the proxy when it was the proxy that failed. */
  #describe(err: unknown): { cause: NetworkCause; text: string } {
    const direct = describeNetworkFailure(err, this.#host);
    if (!this.#proxy) return direct;
    // Connecting goes to the proxy; TLS and everything after it is with the endpoint.
    if (direct.cause === "refused" || direct.cause === "dns" || direct.cause === "unreachable") {
      const { text } = describeNetworkFailure(err, hostOf(this.#proxy));
      return { cause: direct.cause, text: `${text} (the proxy for ${this.#host})` };
    }
    return { cause: direct.cause, text: `${direct.text} (through the proxy ${this.#proxy})` };
  }

  /** The error to throw when the caller's own signal ended the call, or null if it did not. */
  #callerAbort(spec: RequestSpec, err: unknown, last: HttpError | undefined): unknown {
    const signal = spec.signal;
    if (!signal?.aborted || err instanceof HttpError) return null;
    const reason = signal.reason;
    if (!(reason instanceof DOMException && reason.name === "TimeoutError")) return reason;
    const init = this.#init(spec);
    const what = last
      ? `the caller's deadline passed while retrying; last failure: ${last.summary}`
      : "the caller's deadline passed before a response arrived";
    return new HttpTimeoutError({ ...init, networkCause: last?.networkCause, cause: last ?? reason }, what);
  }

  #init(spec: RequestSpec): HttpErrorInit {
    return { service: this.#o.service, method: spec.method, path: spec.path, endpoint: this.#base };
  }

  #url(spec: RequestSpec): string {
    const query = spec.query?.length ? `?${encodeQuery(spec.query)}` : "";
    return `${this.#base}${spec.path}${query}`;
  }

  #headers(spec: RequestSpec): Headers {
    const headers = new Headers({
      "Accept": "application/json",
      "Content-Type": "application/json",
      "Authorization": this.#o.authorization,
    });
    for (const [name, value] of Object.entries(this.#o.headers?.(spec) ?? {})) {
      if (value !== undefined) headers.set(name, value);
    }
    return headers;
  }

  #httpError(init: HttpErrorInit, response: Response, text: string): HttpError {
    const envelope = safeParse(this.#o.parseError ?? parseCommonEnvelope, text);
    return errorForStatus({
      ...init,
      status: response.status,
      code: envelope.code,
      apiMessage: this.#scrub(envelope.message ?? ""),
      details: (envelope.details ?? []).map((e) => this.#scrub(e)),
      retryAfterMs: (this.#o.retryAfterMs ?? retryAfterMs)(response.headers),
    });
  }

  #scrub(text: string): string {
    return redact(text, this.#o.secret);
  }
}

/**
 * A `Deno.HttpClient` that trusts `caFile` (PEM) in addition to the system roots and/or
 * sends through `proxy` (URL); undefined when neither is set (then `fetch` uses the
 * defaults, including the HTTPS_PROXY/NO_PROXY environment). Reads the file
 * synchronously: clients are built once, at startup.
 */
export function createHttpClient(options: { caFile?: string; proxy?: string }): Deno.HttpClient | undefined {
  if (!options.caFile && !options.proxy) return undefined;
  return Deno.createHttpClient({
    ...(options.caFile ? { caCerts: [Deno.readTextFileSync(options.caFile)] } : {}),
    ...(options.proxy ? { proxy: { url: options.proxy } } : {}),
  });
}

/**
 * Reads the common `{"error":{"message","code","errors"}}` envelope, or the same fields at
 * the top level (`{"message": …}`); tolerates any other body.
 */
export function parseCommonEnvelope(text: string): ErrorEnvelope {
  const parsed = JSON.parse(text) as Record<string, unknown> | null;
  const body = parsed && typeof parsed.error === "object" && parsed.error !== null
    ? parsed.error as Record<string, unknown>
    : parsed;
  if (!body || typeof body !== "object") return {};
  return {
    code: typeof body.code === "number" || typeof body.code === "string" ? body.code : undefined,
    message: typeof body.message === "string" ? body.message : undefined,
    details: Array.isArray(body.errors) ? body.errors.map(String) : undefined,
  };
}

/** A parser that throws on a body it does not understand yields an empty envelope. */
function safeParse(parse: (text: string) => ErrorEnvelope, text: string): ErrorEnvelope {
  try {
    return parse(text) ?? {};
  } catch {
    return {};
  }
}

/**
 * Encodes values but keeps `[]` key suffixes literal (`user_ids[]=a&user_ids[]=b`),
 * the form PagerDuty documents for array parameters.
 */
export function encodeQuery(query: Query): string {
  return query
    .map(([key, value]) => `${encodeURIComponent(key).replace(/%5B%5D$/, "[]")}=${encodeURIComponent(value)}`)
    .join("&");
}

/** A 429 is a refusal; other transient failures leave a write's outcome unknown. */
function mayHaveBeenApplied(err: HttpError): boolean {
  return err.kind !== "rate_limited";
}

/** `Retry-After` (seconds or HTTP date) wins over `ratelimit-reset` (seconds). */
export function retryAfterMs(headers: Headers): number | undefined {
  const retryAfter = headers.get("retry-after");
  if (retryAfter !== null) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const reset = Number(headers.get("ratelimit-reset") ?? NaN);
  return Number.isFinite(reset) ? Math.max(0, reset * 1000) : undefined;
}

/** What an answer says about the server's rate limit (`ratelimit-*`, `Retry-After`). */
function rateLimitOf(
  response: Response,
  waitOf: (headers: Headers) => number | undefined,
): { resetInMs?: number; remaining?: number; refused: boolean } {
  const remaining = Number(response.headers.get("ratelimit-remaining") ?? NaN);
  return {
    resetInMs: waitOf(response.headers),
    remaining: Number.isFinite(remaining) ? remaining : undefined,
    refused: response.status === 429,
  };
}

/** A 2xx body that is not JSON is a protocol error, not something a retry would fix. */
function parseBody(init: HttpErrorInit, status: number, text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch (err) {
    throw new HttpError({ ...init, status, cause: err }, "response body is not JSON");
  }
}

/** `host:port` of a URL, for messages (the port only when the URL names one). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
