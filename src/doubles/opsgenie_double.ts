/**
 * OpsgenieDouble: an in-process stand-in for the Opsgenie REST API (alerts, notes,
 * close, request status, who-is-on-call, heartbeat ping), whose every request is
 * checked against Opsgenie's published OpenAPI document (./opsgenie_oas/swagger.json)
 * and the limits Opsgenie documents (message ≤ 130, alias ≤ 512, description ≤ 15,000,
 * ≤ 20 tags of ≤ 50, note ≤ 25,000 characters). It behaves as Opsgenie does where the
 * plugin depends on it: writes answer 202 with a `requestId` and are visible through
 * `GET /v2/alerts/requests/{requestId}` (404 until processed); one open alert per
 * alias, a repeat create is de-duplicated into it; alerts are addressed by id, tiny id
 * or alias; `Authorization: GenieKey <key>`.
 *
 * Test-facing API
 * ---------------
 *   const og = await OpsgenieDouble.start({ apiKey? });   // Deno.serve on 127.0.0.1, port 0
 *   og.url, og.apiKey                                     // host root to configure, expected key
 *   og.addSchedule({ name, id?, onCall? })                // → { id, name }
 *   og.setOnCall(nameOrId, users)
 *   og.alerts(), og.alertByAlias(alias)                   // snapshots with notes[], count, status
 *   og.requests, og.violations, og.acceptedRequestIds, og.countCalls(method, pathPrefix)
 *   og.setProcessingLag(n)                                // each new write's status reads 404 n times
 *   Faults (selector as in ./http_double.ts):
 *   og.inject429(selector, { retryAfterSeconds? }), og.inject5xx(selector, status = 500),
 *   og.injectLatency(selector, ms), og.injectConnectionReset(selector),
 *   og.setServerRateLimit({ limit, windowMs } | null)     // per Opsgenie domain (alerts, schedules, …)
 *   og.clearFaults(), await og.waitFor(predicate), await og.close()
 *
 * Every contract problem is recorded in `violations` and answered with 422 (401 for a
 * wrong credential), so a test that causes one fails twice over.
 */
import doc from "./opsgenie_oas/swagger.json" with { type: "json" };
import { OasValidator } from "./oas_validator.ts";
import {
  FaultPlan,
  type FaultSelector,
  FrontProxy,
  type RecordedRequest,
  recordRequest,
  type Violation,
  waitFor,
} from "./http_double.ts";

export type { FaultSelector, RecordedRequest, Violation };

/** Field limits from docs.opsgenie.com/docs/alert-api (the OpenAPI document omits them). */
const DOCUMENTED_LIMITS = { message: 130, alias: 512, description: 15_000, tags: 20, tag: 50, note: 25_000 };

export interface DoubleNote {
  note: string;
  user: string;
  source: string;
}

export interface DoubleAlert {
  id: string;
  tinyId: string;
  alias: string;
  message: string;
  description: string;
  responders: Array<Record<string, string>>;
  tags: string[];
  priority: string;
  status: "open" | "closed";
  /** How many creates were de-duplicated into this alert, plus one. */
  count: number;
  notes: DoubleNote[];
}

export interface DoubleSchedule {
  id: string;
  name: string;
  onCall: string[];
}

interface RequestStatus {
  action: string;
  success: boolean;
  status: string;
  alertId: string;
  alias: string;
  processedAt: string;
  /** Status reads still answered 404 ("not processed yet"). */
  lag: number;
}

type FaultAction =
  | { kind: "429"; retryAfterSeconds?: number }
  | { kind: "5xx"; status: number }
  | { kind: "latency"; ms: number }
  | { kind: "reset" };

class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const validator = new OasValidator(doc);

export interface OpsgenieDoubleOptions {
  apiKey?: string;
}

export class OpsgenieDouble {
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  /** The request id of every accepted write, in order. */
  readonly acceptedRequestIds: string[] = [];
  readonly #alerts: DoubleAlert[] = [];
  readonly #schedules: DoubleSchedule[] = [];
  readonly #statuses = new Map<string, RequestStatus>();
  readonly #faults = new FaultPlan<FaultAction>();
  #rateLimit:
    | { limit: number; windowMs: number; windows: Map<string, { start: number; used: number }> }
    | null = null;
  #lag = 0;
  #tiny = 1;
  readonly #front: FrontProxy;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #abort = new AbortController();

  private constructor(options: OpsgenieDoubleOptions) {
    this.apiKey = options.apiKey ?? "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: this.#abort.signal, onListen() {} },
      (req, info) => this.#handle(req, info.remoteAddr.port),
    );
    this.#front = new FrontProxy(this.#server.addr.port);
  }

  /** Starts a double on a free loopback port. */
  static start(options: OpsgenieDoubleOptions = {}): Promise<OpsgenieDouble> {
    return Promise.resolve(new OpsgenieDouble(options));
  }

  /** The host root (the client appends /v2/…). */
  get url(): string {
    return this.#front.url;
  }

  /** Adds a schedule; `onCall` lists the usernames (emails) on call now. */
  addSchedule(spec: { name: string; id?: string; onCall?: string[] }): { id: string; name: string } {
    const schedule = {
      id: spec.id ?? crypto.randomUUID(),
      name: spec.name,
      onCall: [...(spec.onCall ?? [])],
    };
    this.#schedules.push(schedule);
    return { id: schedule.id, name: schedule.name };
  }

  /** Replaces who is on call now in the schedule named (or with the id) `schedule`. */
  setOnCall(schedule: string, users: string[]): void {
    const found = this.#schedules.find((s) => s.name === schedule || s.id === schedule);
    if (!found) throw new Error(`no schedule ${schedule}`);
    found.onCall = [...users];
  }

  /** Snapshots of every alert, oldest first. */
  alerts(): DoubleAlert[] {
    return this.#alerts.map(copyAlert);
  }

  /** The open alert with this alias, else the newest closed one, else undefined. */
  alertByAlias(alias: string): DoubleAlert | undefined {
    const found = this.#findByAlias(alias);
    return found && copyAlert(found);
  }

  /** The status reads of every write accepted from now on answer 404 `n` times first. */
  setProcessingLag(n: number): void {
    this.#lag = n;
  }

  countCalls(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  inject429(selector: FaultSelector, headers: { retryAfterSeconds?: number } = {}): void {
    this.#faults.add(selector, { kind: "429", ...headers });
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

  /** Opsgenie's token buckets are per domain: at most `limit` calls per window in each. */
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

  // ---- request pipeline -------------------------------------------------------------

  async #handle(req: Request, peerPort: number): Promise<Response> {
    const record = await recordRequest(req);
    this.requests.push(record);
    const response = await this.#respond(record, peerPort);
    record.status = response?.status ?? 0;
    return response ?? new Response(null, { status: 500 });
  }

  /** Returns null after resetting the connection. */
  async #respond(r: RecordedRequest, peerPort: number): Promise<Response | null> {
    const problems = this.#contractProblems(r);
    const faults = this.#faults.match(r);
    for (const f of faults) if (f.kind === "latency") await new Promise((ok) => setTimeout(ok, f.ms));
    const fault = faults.find((f) => f.kind !== "latency");
    if (fault?.kind === "reset") {
      this.#front.reset(peerPort);
      return null;
    }
    if (fault?.kind === "429") return tooManyRequests(fault.retryAfterSeconds);
    if (fault?.kind === "5xx") return error(fault.status, "Internal Server Error");
    const limited = this.#serverRateLimit(r);
    if (limited) return limited;
    try {
      this.#authorize(r);
      if (problems.length > 0) {
        throw new ApiError(422, `Request does not match the API: ${problems.join("; ")}`);
      }
      return this.#route(r);
    } catch (err) {
      if (err instanceof ApiError) return error(err.status, err.message);
      throw err;
    }
  }

  #contractProblems(r: RecordedRequest): string[] {
    const problems = validator.check(r);
    const op = validator.match(r.method, r.path);
    const body = r.body as Record<string, unknown> | undefined;
    if (op?.operationId === "createAlert" && typeof body === "object" && body !== null) {
      for (const field of ["message", "alias", "description"] as const) {
        const value = body[field];
        if (typeof value === "string" && [...value].length > DOCUMENTED_LIMITS[field]) {
          problems.push(`body.${field} is longer than ${DOCUMENTED_LIMITS[field]} characters`);
        }
      }
      const tags = Array.isArray(body.tags) ? body.tags : [];
      if (tags.length > DOCUMENTED_LIMITS.tags) {
        problems.push(`body.tags has more than ${DOCUMENTED_LIMITS.tags} tags`);
      }
      for (const tag of tags) {
        if (typeof tag === "string" && [...tag].length > DOCUMENTED_LIMITS.tag) {
          problems.push(`body.tags has a tag longer than ${DOCUMENTED_LIMITS.tag} characters`);
        }
      }
    }
    if (typeof body?.note === "string" && [...body.note].length > DOCUMENTED_LIMITS.note) {
      problems.push(`body.note is longer than ${DOCUMENTED_LIMITS.note} characters`);
    }
    const auth = r.headers.get("authorization");
    if (auth !== null && !auth.startsWith("GenieKey ")) {
      problems.push(`Authorization scheme is ${JSON.stringify(auth.split(" ")[0])}, not GenieKey`);
    }
    for (const problem of problems) this.violations.push({ method: r.method, path: r.path, problem });
    return problems;
  }

  #authorize(r: RecordedRequest): void {
    if (r.headers.get("authorization") !== `GenieKey ${this.apiKey}`) {
      throw new ApiError(401, "Could not authenticate");
    }
  }

  #serverRateLimit(r: RecordedRequest): Response | null {
    const rl = this.#rateLimit;
    if (!rl) return null;
    const domain = r.path.split("/")[2] ?? "";
    const now = performance.now();
    let w = rl.windows.get(domain);
    if (!w || now - w.start >= rl.windowMs) rl.windows.set(domain, w = { start: now, used: 0 });
    if (++w.used <= rl.limit) return null;
    return tooManyRequests(Math.ceil((w.start + rl.windowMs - now) / 1000));
  }

  #route(r: RecordedRequest): Response {
    const op = validator.match(r.method, r.path)!;
    const id = op.params.identifier ?? "";
    switch (op.operationId) {
      case "ping":
        return accepted("PONG - Heartbeat received");
      case "createAlert":
        return this.#createAlert(r.body as Record<string, unknown>);
      case "getRequestStatus":
        return this.#requestStatus(op.params.requestId);
      case "getAlert":
        return json(200, {
          data: alertJson(this.#find(id, r.query)),
          took: 0.01,
          requestId: crypto.randomUUID(),
        });
      case "addNote":
        return this.#addNote(id, r);
      case "listNotes":
        return this.#listNotes(id, r.query);
      case "closeAlert":
        return this.#closeAlert(id, r);
      case "getOnCalls":
        return this.#onCalls(id, r.query);
      default:
        throw new ApiError(404, `${op.operationId} is not implemented by the double`);
    }
  }

  #createAlert(body: Record<string, unknown>): Response {
    const alias = typeof body.alias === "string" && body.alias !== "" ? body.alias : crypto.randomUUID();
    const open = this.#alerts.find((a) => a.alias === alias && a.status === "open");
    if (open) {
      open.count++;
      return this.#accept("Create", true, "Alert is deduplicated", open);
    }
    const alert: DoubleAlert = {
      id: crypto.randomUUID(),
      tinyId: String(this.#tiny++),
      alias,
      message: String(body.message),
      description: typeof body.description === "string" ? body.description : "",
      responders: Array.isArray(body.responders) ? body.responders : [],
      tags: Array.isArray(body.tags) ? body.tags : [],
      priority: typeof body.priority === "string" ? body.priority : "P3",
      status: "open",
      count: 1,
      notes: [],
    };
    this.#alerts.push(alert);
    return this.#accept("Create", true, "Created alert", alert);
  }

  #addNote(id: string, r: RecordedRequest): Response {
    const body = r.body as Record<string, string>;
    const alert = this.#lookup(id, r.query);
    if (!alert) return this.#accept("Add Note", false, "Alert does not exist", undefined);
    alert.notes.push({ note: body.note, user: body.user ?? "", source: body.source ?? "" });
    return this.#accept("Add Note", true, "Added note", alert);
  }

  #listNotes(id: string, query: URLSearchParams): Response {
    const alert = this.#find(id, query);
    const limit = Number(query.get("limit") ?? 20);
    const notes = [...alert.notes].reverse().slice(0, limit).map((n, i) => ({
      note: n.note,
      owner: n.user || "Teleport",
      createdAt: new Date().toISOString(),
      offset: String(alert.notes.length - i),
    }));
    return json(200, { data: notes, paging: {}, took: 0.01, requestId: crypto.randomUUID() });
  }

  #closeAlert(id: string, r: RecordedRequest): Response {
    const alert = this.#lookup(id, r.query);
    if (!alert) return this.#accept("Close", false, "Alert does not exist", undefined);
    alert.status = "closed";
    const note = (r.body as Record<string, string> | undefined)?.note;
    if (note) alert.notes.push({ note, user: "", source: "" });
    return this.#accept("Close", true, "Closed alert", alert);
  }

  #onCalls(identifier: string, query: URLSearchParams): Response {
    const byName = query.get("scheduleIdentifierType") === "name";
    const schedule = this.#schedules.find((s) => byName ? s.name === identifier : s.id === identifier);
    if (!schedule) {
      throw new ApiError(404, `No schedule exists with ${byName ? "name" : "id"} [${identifier}]`);
    }
    const data: Record<string, unknown> = {
      _parent: { id: schedule.id, name: schedule.name, enabled: true },
    };
    if (query.get("flat") === "true") data.onCallRecipients = [...schedule.onCall];
    else {data.onCallParticipants = schedule.onCall.map((name) => ({
        id: crypto.randomUUID(),
        name,
        type: "user",
      })
      );}
    return json(200, { data, took: 0.01, requestId: crypto.randomUUID() });
  }

  #requestStatus(requestId: string): Response {
    const status = this.#statuses.get(requestId);
    if (!status || status.lag-- > 0) {
      throw new ApiError(404, "Request not found. It might not be processed, yet.");
    }
    const { lag: _, success, ...data } = status;
    return json(200, {
      data: { ...data, success, isSuccess: success, integrationId: "teleport-access-double" },
      took: 0.01,
      requestId,
    });
  }

  /** Records the asynchronous outcome of a write and answers 202 with its request id. */
  #accept(action: string, success: boolean, status: string, alert: DoubleAlert | undefined): Response {
    const requestId = crypto.randomUUID();
    this.acceptedRequestIds.push(requestId);
    this.#statuses.set(requestId, {
      action,
      success,
      status,
      alertId: alert?.id ?? "",
      alias: alert?.alias ?? "",
      processedAt: new Date().toISOString(),
      lag: this.#lag,
    });
    return json(202, { result: "Request will be processed", took: 0.01, requestId });
  }

  #findByAlias(alias: string): DoubleAlert | undefined {
    return this.#alerts.find((a) => a.alias === alias && a.status === "open") ??
      this.#alerts.findLast((a) => a.alias === alias);
  }

  #lookup(identifier: string, query: URLSearchParams): DoubleAlert | undefined {
    switch (query.get("identifierType") ?? "id") {
      case "alias":
        return this.#findByAlias(identifier);
      case "tiny":
        return this.#alerts.findLast((a) => a.tinyId === identifier);
      default:
        return this.#alerts.find((a) => a.id === identifier);
    }
  }

  #find(identifier: string, query: URLSearchParams): DoubleAlert {
    const alert = this.#lookup(identifier, query);
    if (!alert) throw new ApiError(404, "Alert does not exist");
    return alert;
  }
}

function copyAlert(a: DoubleAlert): DoubleAlert {
  return {
    ...a,
    responders: a.responders.map((r) => ({ ...r })),
    tags: [...a.tags],
    notes: a.notes.map((n) => ({ ...n })),
  };
}

function alertJson(a: DoubleAlert): Record<string, unknown> {
  return {
    id: a.id,
    tinyId: a.tinyId,
    alias: a.alias,
    message: a.message,
    description: a.description,
    status: a.status,
    acknowledged: false,
    count: a.count,
    tags: a.tags,
    priority: a.priority,
    responders: a.responders,
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function accepted(result: string): Response {
  return json(202, { result, took: 0.01, requestId: crypto.randomUUID() });
}

/** Opsgenie's error envelope: `{"message","took","requestId"}`. */
function error(status: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { message, took: 0.01, requestId: crypto.randomUUID() }, headers);
}

function tooManyRequests(retryAfterSeconds?: number): Response {
  const headers: Record<string, string> = { "X-RateLimit-State": "THROTTLED" };
  if (retryAfterSeconds !== undefined) {
    headers["Retry-After"] = String(retryAfterSeconds);
    headers["X-RateLimit-Period-In-Sec"] = String(retryAfterSeconds);
  }
  return error(
    429,
    "You are making too many requests! To avoid errors, we recommend you limit requests.",
    headers,
  );
}
