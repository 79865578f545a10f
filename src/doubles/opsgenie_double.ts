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
 *   og.addSchedule({ name, id?, onCall? }), og.setOnCall(nameOrId, users)
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
import { AlertApiDouble, alertLimitProblems, ApiError, json } from "./alert_api_double.ts";
import type { RateLimitHint } from "./http_api_double.ts";
import { type AlertIdentifierType, alertJson } from "./alert_store.ts";
import type { RecordedRequest } from "./http_double.ts";

export type { DoubleAlert, DoubleNote } from "./alert_store.ts";
export type { FaultSelector, RecordedRequest, Violation } from "./http_double.ts";

const validator = new OasValidator(doc);

export interface OpsgenieDoubleOptions {
  apiKey?: string;
}

export class OpsgenieDouble extends AlertApiDouble {
  readonly apiKey: string;

  private constructor(options: OpsgenieDoubleOptions) {
    super();
    this.apiKey = options.apiKey ?? "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
  }

  /** Starts a double on a free loopback port. */
  static start(options: OpsgenieDoubleOptions = {}): Promise<OpsgenieDouble> {
    return Promise.resolve(new OpsgenieDouble(options));
  }

  protected contractProblems(r: RecordedRequest): string[] {
    const problems = validator.check(r);
    const op = validator.match(r.method, r.path);
    problems.push(...alertLimitProblems(r.body, op?.operationId === "createAlert"));
    const auth = r.headers.get("authorization");
    if (auth !== null && !auth.startsWith("GenieKey ")) {
      problems.push(`Authorization scheme is ${JSON.stringify(auth.split(" ")[0])}, not GenieKey`);
    }
    return problems;
  }

  protected authorize(r: RecordedRequest): void {
    if (r.headers.get("authorization") !== `GenieKey ${this.apiKey}`) {
      throw new ApiError(401, "Could not authenticate");
    }
  }

  protected domainOf(path: string): string {
    return path.split("/")[2] ?? "";
  }

  protected route(r: RecordedRequest): Response {
    const op = validator.match(r.method, r.path)!;
    const id = op.params.identifier ?? "";
    const type = (r.query.get("identifierType") ?? "id") as AlertIdentifierType;
    const body = (r.body ?? {}) as Record<string, unknown>;
    switch (op.operationId) {
      case "ping":
        return accepted(crypto.randomUUID(), "PONG - Heartbeat received");
      case "createAlert":
        return accepted(this.store.create(body));
      case "getRequestStatus":
        return this.#requestStatus(op.params.requestId);
      case "getAlert":
        return ok({ data: alertJson(this.#find(id, type)) });
      case "addNote":
        return accepted(this.store.addNote(id, type, body));
      case "listNotes":
        return this.#listNotes(id, type, r.query);
      case "closeAlert":
        return accepted(this.store.close(id, type, body));
      case "getOnCalls":
        return this.#onCalls(id, r.query);
      default:
        throw new ApiError(404, `${op.operationId} is not implemented by the double`);
    }
  }

  protected renderError(err: ApiError, headers: Record<string, string> = {}): Response {
    return json(err.status, { message: err.message, took: 0.01, requestId: crypto.randomUUID() }, headers);
  }

  protected tooManyRequests(hint: RateLimitHint): Response {
    const retryAfterSeconds = hint.retryAfterSeconds ?? hint.rateLimitResetSeconds;
    const headers: Record<string, string> = { "X-RateLimit-State": "THROTTLED" };
    if (retryAfterSeconds !== undefined) {
      headers["Retry-After"] = String(retryAfterSeconds);
      headers["X-RateLimit-Period-In-Sec"] = String(retryAfterSeconds);
    }
    const message = "You are making too many requests! To avoid errors, we recommend you limit requests.";
    return this.renderError(new ApiError(429, message), headers);
  }

  #find(identifier: string, type: AlertIdentifierType) {
    const alert = this.store.find(identifier, type);
    if (!alert) throw new ApiError(404, "Alert does not exist");
    return alert;
  }

  #listNotes(id: string, type: AlertIdentifierType, query: URLSearchParams): Response {
    const alert = this.#find(id, type);
    const limit = Number(query.get("limit") ?? 20);
    const notes = [...alert.notes].reverse().slice(0, limit).map((n, i) => ({
      note: n.note,
      owner: n.user || "Teleport",
      createdAt: new Date().toISOString(),
      offset: String(alert.notes.length - i),
    }));
    return ok({ data: notes, paging: {} });
  }

  #onCalls(identifier: string, query: URLSearchParams): Response {
    const byName = query.get("scheduleIdentifierType") === "name";
    const schedule = this.store.schedule(identifier, byName);
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
    return ok({ data });
  }

  #requestStatus(requestId: string): Response {
    const status = this.store.status(requestId);
    if (!status) throw new ApiError(404, "Request not found. It might not be processed, yet.");
    const { success, ...data } = status;
    return ok({
      data: { ...data, success, isSuccess: success, integrationId: "teleport-access-double" },
      requestId,
    });
  }
}

/** 202 with Opsgenie's asynchronous-request envelope. */
function accepted(requestId: string, result = "Request will be processed"): Response {
  return json(202, { result, took: 0.01, requestId });
}

function ok(body: Record<string, unknown>): Response {
  return json(200, { took: 0.01, requestId: crypto.randomUUID(), ...body });
}
