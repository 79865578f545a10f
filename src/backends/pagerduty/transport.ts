/**
 * One PagerDuty REST call with the protocol details every operation shares: headers,
 * query encoding, per-request timeout, error envelope parsing, the shared rate limiter
 * and bounded retries.
 */
import { decorrelatedJitter } from "../../ops/backoff.ts";
import type { Clock } from "../../http/clock.ts";
import {
  errorForStatus,
  PagerDutyError,
  type PagerDutyErrorInit,
  PagerDutyNetworkError,
  PagerDutyTimeoutError,
  redact,
} from "./errors.ts";
import type { TokenBucket } from "../../http/rate_limiter.ts";
import { getLog } from "../../ops/logging.ts";

const logger = getLog("pagerduty");

const ACCEPT = "application/vnd.pagerduty+json;version=2";

/** Ordered query parameters; a key may repeat (`user_ids[]`). */
export type Query = ReadonlyArray<readonly [string, string]>;

export interface RequestSpec {
  method: "GET" | "POST" | "PUT";
  /** Path below the API endpoint, starting with "/". */
  path: string;
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /**
   * Called before re-sending a write whose previous attempt may have been applied
   * (5xx, broken connection, timeout). A non-null result ends the call with it.
   */
  recover?: () => Promise<unknown>;
}

export interface RetryPolicy {
  /** Total time budget of one operation, retries included. */
  deadlineMs: number;
  /** Decorrelated-jitter backoff bounds for retries without a server-given delay. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 60_000, baseDelayMs: 250, maxDelayMs: 10_000 };

export interface TransportOptions {
  apiKey: string;
  userEmail: string;
  apiEndpoint: string;
  requestTimeoutMs: number;
  retry: RetryPolicy;
  limiter: TokenBucket;
  clock: Clock;
  httpClient?: Deno.HttpClient;
}

export class Transport {
  readonly #o: TransportOptions;
  readonly #base: string;

  constructor(options: TransportOptions) {
    this.#o = options;
    this.#base = options.apiEndpoint.replace(/\/+$/, "");
  }

  /** Sends `spec`, retrying retryable failures until the operation's deadline; returns the parsed body. */
  async request<T>(spec: RequestSpec): Promise<T> {
    const { clock, retry } = this.#o;
    const deadline = clock.now() + retry.deadlineMs;
    let backoff = retry.baseDelayMs;
    for (let attempt = 1;; attempt++) {
      try {
        await this.#o.limiter.take(spec.signal);
        return await this.#send<T>(spec);
      } catch (err) {
        if (!(err instanceof PagerDutyError) || !err.retryable) throw err;
        backoff = decorrelatedJitter(backoff, { baseMs: retry.baseDelayMs, capMs: retry.maxDelayMs });
        const delay = err.retryAfterMs ?? backoff;
        if (clock.now() + delay > deadline) throw err;
        logger.debug("Retrying PagerDuty request", {
          method: spec.method,
          path: spec.path,
          attempt,
          delay_ms: Math.round(delay),
          error: err.message,
        });
        await clock.sleep(delay, spec.signal);
        if (spec.recover && mayHaveBeenApplied(err)) {
          const recovered = await spec.recover();
          if (recovered !== null && recovered !== undefined) return recovered as T;
        }
      }
    }
  }

  async #send<T>(spec: RequestSpec): Promise<T> {
    const init = { method: spec.method, path: spec.path };
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#o.requestTimeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
    try {
      const response = await fetch(this.#url(spec), {
        method: spec.method,
        headers: this.#headers(spec.method !== "GET"),
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal,
        client: this.#o.httpClient,
      });
      const text = await response.text();
      if (!response.ok) throw this.#httpError(init, response, text);
      return parseBody(init, response.status, text) as T;
    } catch (err) {
      if (err instanceof PagerDutyError) throw err;
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (timeout.signal.aborted) {
        throw new PagerDutyTimeoutError(
          { ...init, cause: err },
          `no response within ${this.#o.requestTimeoutMs} ms`,
        );
      }
      throw new PagerDutyNetworkError({ ...init, cause: err }, this.#scrub(String(err)));
    } finally {
      clearTimeout(timer);
    }
  }

  #url(spec: RequestSpec): string {
    const query = spec.query?.length ? `?${encodeQuery(spec.query)}` : "";
    return `${this.#base}${spec.path}${query}`;
  }

  #headers(write: boolean): Headers {
    const headers = new Headers({
      "Accept": ACCEPT,
      "Content-Type": "application/json",
      "Authorization": `Token token=${this.#o.apiKey}`,
    });
    if (write) headers.set("From", this.#o.userEmail);
    return headers;
  }

  #httpError(init: { method: string; path: string }, response: Response, text: string): PagerDutyError {
    const envelope = parseEnvelope(text);
    return errorForStatus(
      {
        ...init,
        status: response.status,
        code: envelope.code,
        apiMessage: this.#scrub(envelope.message ?? ""),
        details: envelope.errors.map((e) => this.#scrub(e)),
        retryAfterMs: retryAfterMs(response.headers),
      } satisfies PagerDutyErrorInit & { status: number },
    );
  }

  #scrub(text: string): string {
    return redact(text, this.#o.apiKey);
  }
}

/**
 * Encodes values but keeps `[]` key suffixes literal (`user_ids[]=a&user_ids[]=b`),
 * the form PagerDuty documents for array parameters.
 */
function encodeQuery(query: Query): string {
  return query
    .map(([key, value]) => `${encodeURIComponent(key).replace(/%5B%5D$/, "[]")}=${encodeURIComponent(value)}`)
    .join("&");
}

/** A 429 is a refusal; other retryable failures leave the write's outcome unknown. */
function mayHaveBeenApplied(err: PagerDutyError): boolean {
  return err.kind !== "rate_limited";
}

/** `Retry-After` (seconds or HTTP date) wins over `ratelimit-reset` (seconds). */
function retryAfterMs(headers: Headers): number | undefined {
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

/** A 2xx body that is not JSON is a protocol error, not something a retry would fix. */
function parseBody(init: { method: string; path: string }, status: number, text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch (err) {
    throw new PagerDutyError({ ...init, status, cause: err }, "response body is not JSON");
  }
}

interface Envelope {
  code?: number;
  message?: string;
  errors: string[];
}

/** Reads PagerDuty's `{"error":{...}}` envelope; tolerates any other body. */
function parseEnvelope(text: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { errors: [] };
  }
  const error = (parsed as { error?: Record<string, unknown> } | null)?.error;
  if (!error || typeof error !== "object") return { errors: [] };
  return {
    code: typeof error.code === "number" ? error.code : undefined,
    message: typeof error.message === "string" ? error.message : undefined,
    errors: Array.isArray(error.errors) ? error.errors.map(String) : [],
  };
}
