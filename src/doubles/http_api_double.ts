/**
 * The HTTP front every API double shares (PagerDuty, Opsgenie, JSM Operations): records
 * every request, checks it against the API's contract (a problem is a recorded
 * violation, and a refusal where the double says so), applies programmed faults and a
 * per-domain server rate limit, authenticates, then routes to the subclass.
 */
import {
  FaultPlan,
  type FaultSelector,
  FrontProxy,
  type RecordedRequest,
  recordRequest,
  type TlsIdentity,
  type Violation,
  waitFor,
} from "./http_double.ts";

/** What a 429 tells the client: `Retry-After` seconds, a reset time, the limit. */
export interface RateLimitHint {
  retryAfterSeconds?: number;
  rateLimitResetSeconds?: number;
  limit?: number;
}

type FaultAction =
  | { kind: "429"; hint: RateLimitHint }
  | { kind: "5xx"; status: number }
  | { kind: "latency"; ms: number }
  | { kind: "reset" };

/** A refusal with its HTTP status, rendered in the API's error envelope. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export abstract class HttpApiDouble {
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  readonly #faults = new FaultPlan<FaultAction>();
  #rateLimit:
    | { limit: number; windowMs: number; windows: Map<string, { start: number; used: number }> }
    | null = null;
  readonly #front: FrontProxy;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #abort = new AbortController();

  /** With `tls`, clients reach the double over HTTPS with that certificate. */
  protected constructor(tls?: TlsIdentity) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: this.#abort.signal, onListen() {} },
      (req, info) => this.#handle(req, info.remoteAddr.port),
    );
    this.#front = new FrontProxy(this.#server.addr.port, tls);
  }

  /** The base URL to configure. */
  get url(): string {
    return this.#front.url;
  }

  countCalls(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  inject429(selector: FaultSelector, hint: RateLimitHint = {}): void {
    this.#faults.add(selector, { kind: "429", hint });
  }

  inject5xx(selector: FaultSelector, status = 500): void {
    this.#faults.add(selector, { kind: "5xx", status });
  }

  injectLatency(selector: FaultSelector, ms: number): void {
    this.#faults.add(selector, { kind: "latency", ms });
  }

  injectConnectionReset(selector: FaultSelector): void {
    this.#faults.add(selector, { kind: "reset" });
  }

  /** At most `limit` calls per window in each rate-limit domain (alerts, schedules, …). */
  setServerRateLimit(spec: { limit: number; windowMs: number } | null): void {
    this.#rateLimit = spec && { ...spec, windows: new Map() };
  }

  clearFaults(): void {
    this.#faults.clear();
    this.#rateLimit = null;
  }

  /** Resolves once `predicate()` holds; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    return waitFor(predicate, timeoutMs);
  }

  async close(): Promise<void> {
    await this.#front.close();
    this.#abort.abort();
    await this.#server.finished;
  }

  /** Every way the request breaks the API's contract. */
  protected abstract contractProblems(r: RecordedRequest): string[];
  /** Throws ApiError(401) unless the request carries the expected credentials. */
  protected abstract authorize(r: RecordedRequest): void;
  protected abstract route(r: RecordedRequest): Response;
  /** The rate-limit domain of a path ("alerts", "schedules", …). */
  protected abstract domainOf(path: string): string;
  /** A refusal in the API's error envelope. */
  protected abstract renderError(err: ApiError): Response;
  /** The API's 429, telling the client when to retry. */
  protected abstract tooManyRequests(hint: RateLimitHint): Response;
  /** Headers the API puts on every answer about its rate limit (PagerDuty: `ratelimit-*`); none by default. */
  protected rateLimitHeaders(
    _state: { limit: number; remaining: number; resetSeconds: number },
  ): Record<string, string> {
    return {};
  }
  /** Whether a contract problem is refused (422) or only recorded. */
  protected readonly refuseViolations: boolean = true;

  async #handle(req: Request, peerPort: number): Promise<Response> {
    const record = await recordRequest(req);
    this.requests.push(record);
    const response = await this.#respond(record, peerPort);
    record.status = response?.status ?? 0;
    return response ?? new Response(null, { status: 500 });
  }

  /** Returns null after resetting the connection. */
  async #respond(r: RecordedRequest, peerPort: number): Promise<Response | null> {
    const problems = this.contractProblems(r);
    for (const problem of problems) this.violations.push({ method: r.method, path: r.path, problem });
    const faults = this.#faults.match(r);
    for (const f of faults) if (f.kind === "latency") await new Promise((ok) => setTimeout(ok, f.ms));
    const fault = faults.find((f) => f.kind !== "latency");
    if (fault?.kind === "reset") {
      this.#front.reset(peerPort);
      return null;
    }
    if (fault?.kind === "429") return this.tooManyRequests(fault.hint);
    if (fault?.kind === "5xx") return this.renderError(new ApiError(fault.status, "Internal Server Error"));
    const limit = this.#serverRateLimit(r);
    if (limit?.refused) return limit.refused;
    let response: Response;
    try {
      this.authorize(r);
      if (problems.length > 0 && this.refuseViolations) {
        throw new ApiError(422, `Request does not match the API: ${problems.join("; ")}`);
      }
      response = this.route(r);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      response = this.renderError(err);
    }
    for (const [name, value] of Object.entries(limit?.headers ?? {})) response.headers.set(name, value);
    return response;
  }

  /** Counts the request against its domain's window: a 429 past the limit, else the rate-limit headers. */
  #serverRateLimit(r: RecordedRequest): { refused?: Response; headers?: Record<string, string> } | null {
    const rl = this.#rateLimit;
    if (!rl) return null;
    const domain = this.domainOf(r.path);
    const now = performance.now();
    let w = rl.windows.get(domain);
    if (!w || now - w.start >= rl.windowMs) rl.windows.set(domain, w = { start: now, used: 0 });
    const resetSeconds = Math.ceil((w.start + rl.windowMs - now) / 1000);
    if (++w.used > rl.limit) {
      return { refused: this.tooManyRequests({ rateLimitResetSeconds: resetSeconds, limit: rl.limit }) };
    }
    return {
      headers: this.rateLimitHeaders({ limit: rl.limit, remaining: rl.limit - w.used, resetSeconds }),
    };
  }
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
