/**
 * One Opsgenie REST call with what every operation shares: the credential header,
 * JSON bodies, a per-request timeout, Opsgenie's error envelope, a client-side rate
 * limit per Opsgenie rate-limit domain, and bounded retries of transient failures.
 *
 * Interim: the client talks to the `OpsgenieCaller` interface only, so this file can be
 * replaced by the shared REST transport (src/http) without touching the client. It is
 * modelled on src/backends/pagerduty/transport.ts.
 */
import { decorrelatedJitter } from "../../ops/backoff.ts";
import type { Clock } from "../../http/clock.ts";
import { TokenBucket } from "../../http/rate_limiter.ts";
import { Redactor } from "../../ops/redact.ts";
import { getLog } from "../../ops/logging.ts";
import {
  errorForStatus,
  OpsgenieError,
  OpsgenieNetworkError,
  OpsgenieRateLimitError,
  OpsgenieTimeoutError,
} from "./errors.ts";

const logger = getLog("opsgenie");

export interface OpsgenieCall {
  method: "GET" | "POST";
  /** Path below the API root, starting with "/" (e.g. "/alerts"). */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  /**
   * Called before re-sending a write whose previous attempt may have been applied
   * (5xx, broken connection, timeout). A non-null result ends the call with it.
   */
  recover?: () => Promise<unknown>;
}

/** What the client needs from a transport. */
export interface OpsgenieCaller {
  /** Sends the call, retrying transient failures; returns the parsed JSON body. */
  call<T>(call: OpsgenieCall): Promise<T>;
}

export interface RetryPolicy {
  /** Total time budget of one operation, retries included. */
  deadlineMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 60_000, baseDelayMs: 250, maxDelayMs: 10_000 };

export interface TransportOptions {
  /** API root every path is appended to, e.g. "https://api.opsgenie.com/v2". */
  root: string;
  /** The `Authorization` header value (`GenieKey …` or `Basic …`). */
  authorization: string;
  /** Texts scrubbed from every error message (the API key or token). */
  secrets: string[];
  requestTimeoutMs: number;
  ratePerMinute: number;
  rateLimitBurst?: number;
  retry: RetryPolicy;
  clock: Clock;
  httpClient?: Deno.HttpClient;
}

export class OpsgenieTransport implements OpsgenieCaller {
  readonly #o: TransportOptions;
  readonly #root: string;
  readonly #redactor: Redactor;
  /** Opsgenie limits each domain (alerts, schedules, heartbeats, …) separately. */
  readonly #limiters = new Map<string, TokenBucket>();

  constructor(options: TransportOptions) {
    this.#o = options;
    this.#root = options.root.replace(/\/+$/, "");
    this.#redactor = new Redactor(options.secrets);
  }

  /** Sends `spec`, retrying retryable failures until the operation's deadline. */
  async call<T>(spec: OpsgenieCall): Promise<T> {
    const { clock, retry } = this.#o;
    const deadline = clock.now() + retry.deadlineMs;
    let backoff = retry.baseDelayMs;
    for (let attempt = 1;; attempt++) {
      try {
        await this.#limiter(spec.path).take(spec.signal);
        return await this.#send<T>(spec);
      } catch (err) {
        if (!(err instanceof OpsgenieError) || !err.retryable) throw err;
        backoff = decorrelatedJitter(backoff, { baseMs: retry.baseDelayMs, capMs: retry.maxDelayMs });
        const delay = err.retryAfterMs ?? backoff;
        if (clock.now() + delay > deadline) throw err;
        logger.debug("Retrying Opsgenie request", {
          method: spec.method,
          path: spec.path,
          attempt,
          delay_ms: Math.round(delay),
          error: err.message,
        });
        await clock.sleep(delay, spec.signal);
        if (spec.recover && !(err instanceof OpsgenieRateLimitError)) {
          const recovered = await spec.recover();
          if (recovered !== null && recovered !== undefined) return recovered as T;
        }
      }
    }
  }

  #limiter(path: string): TokenBucket {
    const domain = path.split("/")[1] ?? "";
    let limiter = this.#limiters.get(domain);
    if (!limiter) {
      limiter = new TokenBucket(this.#o.ratePerMinute, {
        burst: this.#o.rateLimitBurst,
        clock: this.#o.clock,
      });
      this.#limiters.set(domain, limiter);
    }
    return limiter;
  }

  async #send<T>(spec: OpsgenieCall): Promise<T> {
    const init = { method: spec.method, path: spec.path };
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#o.requestTimeoutMs);
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
    try {
      const query = spec.query ? `?${new URLSearchParams(spec.query)}` : "";
      const headers = new Headers({ "Accept": "application/json", "Authorization": this.#o.authorization });
      if (spec.body !== undefined) headers.set("Content-Type", "application/json");
      const response = await fetch(`${this.#root}${spec.path}${query}`, {
        method: spec.method,
        headers,
        body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
        signal,
        client: this.#o.httpClient,
      });
      const text = await response.text();
      if (!response.ok) {
        const envelope = parseEnvelope(text);
        throw errorForStatus({
          ...init,
          status: response.status,
          apiMessage: this.#scrub(envelope.message),
          requestId: envelope.requestId,
          retryAfterMs: retryAfterMs(response.headers),
        });
      }
      return parseBody(init, response.status, text) as T;
    } catch (err) {
      if (err instanceof OpsgenieError) throw err;
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (timeout.signal.aborted) {
        throw new OpsgenieTimeoutError(
          { ...init, cause: err },
          `no response within ${this.#o.requestTimeoutMs} ms`,
        );
      }
      throw new OpsgenieNetworkError({ ...init, cause: err }, this.#scrub(String(err)));
    } finally {
      clearTimeout(timer);
    }
  }

  #scrub(text: string): string {
    return this.#redactor.text(text);
  }
}

/** `Retry-After` (seconds) wins; Opsgenie's own throttle header gives the period otherwise. */
function retryAfterMs(headers: Headers): number | undefined {
  for (const name of ["retry-after", "x-ratelimit-period-in-sec"]) {
    const seconds = Number(headers.get(name) ?? NaN);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  }
  return undefined;
}

function parseBody(init: { method: string; path: string }, status: number, text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch (err) {
    throw new OpsgenieError({ ...init, status, cause: err }, "response body is not JSON");
  }
}

/** Reads Opsgenie's `{"message","took","requestId"}` envelope; tolerates any other body. */
function parseEnvelope(text: string): { message: string; requestId?: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    return {
      message: typeof body?.message === "string" ? body.message : "",
      requestId: typeof body?.requestId === "string" ? body.requestId : undefined,
    };
  } catch {
    return { message: "" };
  }
}
