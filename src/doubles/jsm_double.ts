/**
 * JsmDouble: an in-process stand-in for Jira Service Management Operations (the alert,
 * request-status, note, close and on-call endpoints under `/jsm/ops/api/{cloudId}/v1`,
 * and Jira's user search), every request checked against ./jsm_contract.ts. Same alert
 * behaviour as the Opsgenie double (async writes, one open alert per alias), with JSM's
 * differences: HTTP Basic authentication, alerts addressed by id only, unwrapped request
 * status, `values` lists, schedules by id, and on-call users as Atlassian account ids.
 *
 * Test-facing API: as OpsgenieDouble (./opsgenie_double.ts), plus
 *   const jsm = await JsmDouble.start({ email?, apiToken?, cloudId? });
 *   jsm.url, jsm.email, jsm.apiToken, jsm.cloudId
 *   jsm.addUser({ email, accountId? })                  // → accountId, found by the user search
 *   jsm.addSchedule({ name, id?, onCall: [accountId…] })
 */
import { AlertApiDouble, ApiError, json } from "./alert_api_double.ts";
import { alertJson } from "./alert_store.ts";
import type { RateLimitHint } from "./http_api_double.ts";
import type { RecordedRequest } from "./http_double.ts";
import { JSM_CONTRACT } from "./jsm_contract.ts";
import { OasValidator } from "./oas_validator.ts";

export type { DoubleAlert, DoubleNote } from "./alert_store.ts";

const validator = new OasValidator(JSM_CONTRACT);

export interface JsmDoubleOptions {
  email?: string;
  apiToken?: string;
  cloudId?: string;
}

export class JsmDouble extends AlertApiDouble {
  readonly email: string;
  readonly apiToken: string;
  readonly cloudId: string;
  readonly #users: Array<{ accountId: string; email: string }> = [];

  private constructor(options: JsmDoubleOptions) {
    super();
    this.email = options.email ?? "teleport-bot@example.com";
    this.apiToken = options.apiToken ?? "ATATT3x-TEST-jsm-api-token-0123";
    this.cloudId = options.cloudId ?? "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
  }

  /** Starts a double on a free loopback port. */
  static start(options: JsmDoubleOptions = {}): Promise<JsmDouble> {
    return Promise.resolve(new JsmDouble(options));
  }

  /** Adds an Atlassian account the user search finds by its e-mail. */
  addUser(spec: { email: string; accountId?: string }): string {
    const accountId = spec.accountId ?? crypto.randomUUID().replaceAll("-", "").slice(0, 24);
    this.#users.push({ accountId, email: spec.email });
    return accountId;
  }

  protected contractProblems(r: RecordedRequest): string[] {
    const problems = validator.check(r);
    const op = validator.match(r.method, r.path);
    if (op && op.params.cloudId !== this.cloudId) {
      problems.push(`cloud id ${op.params.cloudId} is not this site's`);
    }
    return problems;
  }

  protected authorize(r: RecordedRequest): void {
    if (r.headers.get("authorization") !== `Basic ${btoa(`${this.email}:${this.apiToken}`)}`) {
      throw new ApiError(401, "Client must be authenticated to access this resource.");
    }
  }

  protected domainOf(path: string): string {
    return path.startsWith("/ex/jira/") ? "jira" : path.split("/")[6] ?? "";
  }

  protected route(r: RecordedRequest): Response {
    const op = validator.match(r.method, r.path)!;
    const id = op.params.id ?? "";
    const body = (r.body ?? {}) as Record<string, unknown>;
    switch (op.operationId) {
      case "listAlerts":
        return json(200, {
          values: this.store.alerts().slice(0, Number(r.query.get("size") ?? 20)).map(alertJson),
          links: {},
        });
      case "createAlert":
        return accepted(this.store.create(body));
      case "getRequestStatus": {
        const status = this.store.status(id);
        if (!status) throw new ApiError(404, "Request not found. It might not be processed, yet.");
        const { success, ...rest } = status;
        return json(200, { ...rest, isSuccess: success, integrationId: "" });
      }
      case "getAlertByAlias":
        return json(200, alertJson(this.#find(r.query.get("alias") ?? "", "alias")));
      case "getAlert":
        return json(200, alertJson(this.#find(id, "id")));
      case "addNote":
        return accepted(this.store.addNote(id, "id", body));
      case "listNotes": {
        const notes = [...this.#find(id, "id").notes].reverse();
        return json(200, { values: notes.map((n) => ({ note: n.note, owner: n.user })), links: {} });
      }
      case "closeAlert":
        return accepted(this.store.close(id, "id", body));
      case "getOnCalls": {
        const schedule = this.store.schedule(op.params.scheduleId, false);
        if (!schedule) throw new ApiError(404, `Schedule ${op.params.scheduleId} does not exist`);
        return r.query.get("flat") === "true" ? json(200, { onCallUsers: [...schedule.onCall] }) : json(200, {
          onCallParticipants: schedule.onCall.map((accountId) => ({ id: accountId, type: "user" })),
        });
      }
      case "findUsers": {
        const q = (r.query.get("query") ?? "").toLowerCase();
        const found = this.#users.filter((u) => q !== "" && u.email.toLowerCase().includes(q));
        return json(
          200,
          found.map((u) => ({
            accountId: u.accountId,
            emailAddress: u.email,
            accountType: "atlassian",
            active: true,
          })),
        );
      }
      default:
        throw new ApiError(404, `${op.operationId} is not implemented by the double`);
    }
  }

  protected renderError(err: ApiError, headers: Record<string, string> = {}): Response {
    return json(err.status, { message: err.message }, headers);
  }

  protected tooManyRequests(hint: RateLimitHint): Response {
    const seconds = hint.retryAfterSeconds ?? hint.rateLimitResetSeconds;
    return this.renderError(
      new ApiError(429, "Rate limit exceeded"),
      seconds === undefined ? {} : { "Retry-After": String(seconds) },
    );
  }

  #find(identifier: string, type: "id" | "alias") {
    const alert = this.store.find(identifier, type);
    if (!alert) throw new ApiError(404, "Alert does not exist");
    return alert;
  }
}

function accepted(requestId: string): Response {
  return json(202, { result: "Request will be processed", took: 0.01, requestId });
}
