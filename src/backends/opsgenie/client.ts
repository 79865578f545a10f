/**
 * Opsgenie Alert and Who-is-on-call API client: the calls the access-request plugin
 * makes, over an `OpsgenieCaller` (retries, rate limits and errors live there).
 *
 * Opsgenie processes every alert write asynchronously: the answer is 202 with a
 * `requestId`, and `GET /alerts/requests/{requestId}` tells, once processed, whether it
 * succeeded and which alert it made. Creation is idempotent through the alias: Opsgenie
 * keeps at most one open alert per alias and de-duplicates a repeat into it.
 */
import type { Clock } from "../../http/clock.ts";
import { OpsgenieNotFoundError, OpsgeniePendingError, OpsgenieRefusedError } from "./errors.ts";
/** One call below the API root. */
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

/** What the client needs from a transport (./api.ts adapts src/http's RestTransport). */
export interface OpsgenieCaller {
  /** Sends the call, retrying transient failures; returns the parsed JSON body. */
  call<T>(call: OpsgenieCall): Promise<T>;
}

/** The heartbeat upstream pings as its start-up check (Opsgenie answers even if it does not exist). */
export const HEARTBEAT_NAME = "teleport-access-heartbeat";

export interface CallOptions {
  signal?: AbortSignal;
}

/** A responder as Opsgenie's Recipient: by id when the value is a UUID, else by name. */
export interface Responder {
  type: "schedule" | "team" | "user";
  id?: string;
  name?: string;
}

export interface CreateAlertInput {
  message: string;
  alias: string;
  description: string;
  responders: Responder[];
  tags: string[];
  priority?: string;
}

export interface AlertRef {
  id: string;
  alias: string;
}

/** How a write's asynchronous request ended. */
export interface RequestOutcome {
  alertId: string;
  status: string;
}

export interface PollPolicy {
  /** Status reads before giving up (the request then counts as still pending). */
  attempts: number;
  /** Wait before the second read; doubles up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

/** Opsgenie usually processes a write within a few hundred milliseconds. */
export const DEFAULT_POLL: PollPolicy = { attempts: 6, firstDelayMs: 200, maxDelayMs: 2_000 };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Schedules and teams named by UUID are addressed by id, anything else by name (upstream's rule). */
export function responder(type: Responder["type"], value: string): Responder {
  return UUID.test(value) ? { type, id: value } : { type, name: value };
}

/** Whether a schedule or team reference is an id rather than a name. */
export function isId(value: string): boolean {
  return UUID.test(value);
}

interface Accepted {
  requestId?: string;
}

/** The fields of a request status the client reads. */
export interface RequestStatusData {
  isSuccess?: boolean;
  success?: boolean;
  status?: string;
  alertId?: string;
}

/** Where a call about one alert goes. */
export interface AlertTarget {
  path: string;
  query?: Record<string, string>;
}

/**
 * The Opsgenie REST API (v2). JSM Operations (./jsm_client.ts) speaks the same model
 * and overrides the calls that differ.
 */
export class OpsgenieClient {
  /** For logs and errors. */
  readonly product: string = "Opsgenie";
  protected readonly api: OpsgenieCaller;
  readonly #clock: Clock;
  readonly #poll: PollPolicy;

  constructor(api: OpsgenieCaller, clock: Clock, poll: PollPolicy = DEFAULT_POLL) {
    this.api = api;
    this.#clock = clock;
    this.#poll = poll;
  }

  /** Validates the endpoint and the key: upstream's heartbeat ping. */
  async healthCheck(opts: CallOptions = {}): Promise<void> {
    await this.api.call({ method: "GET", path: `/heartbeats/${HEARTBEAT_NAME}/ping`, signal: opts.signal });
  }

  /**
   * Creates (or, through the alias, finds the open) alert and returns its id: one
   * create and, when Opsgenie has processed it by then, one status read.
   */
  async createAlert(input: CreateAlertInput, opts: CallOptions = {}): Promise<AlertRef> {
    this.checkResponders(input.responders);
    const body: Record<string, unknown> = {
      message: input.message,
      alias: input.alias,
      description: input.description,
      responders: input.responders,
    };
    if (input.tags.length > 0) body.tags = input.tags;
    if (input.priority) body.priority = input.priority;
    const accepted = await this.api.call<Accepted & { found?: AlertRef }>({
      method: "POST",
      path: "/alerts",
      body,
      signal: opts.signal,
      // A create whose answer was lost may have been applied: the alias finds it. (If
      // not yet processed, the resend is de-duplicated into it by Opsgenie anyway.)
      recover: async () => {
        const found = await this.getAlertByAlias(input.alias, opts);
        return found && { found };
      },
    });
    if (accepted?.found) return accepted.found;
    if (!accepted?.requestId) {
      throw new OpsgeniePendingError(
        { service: this.product, method: "POST", path: "/alerts" },
        "no request id in the answer",
      );
    }
    const outcome = await this.waitForRequest(accepted.requestId, opts);
    if (!outcome.alertId) {
      throw new OpsgenieRefusedError(
        { service: this.product, method: "GET", path: `/alerts/requests/${accepted.requestId}` },
        `request processed without an alert id (${outcome.status})`,
      );
    }
    return { id: outcome.alertId, alias: input.alias };
  }

  /**
   * Reads a write's request status until Opsgenie has processed it (a 404 means "not
   * yet"). Throws OpsgenieRefusedError when it failed, OpsgeniePendingError when it is
   * still unprocessed after the polling budget.
   */
  async waitForRequest(requestId: string, opts: CallOptions = {}): Promise<RequestOutcome> {
    const path = `/alerts/requests/${encodeURIComponent(requestId)}`;
    let delay = this.#poll.firstDelayMs;
    for (let attempt = 1;; attempt++) {
      try {
        const data = this.statusData(
          await this.api.call<unknown>({ method: "GET", path, signal: opts.signal }),
        );
        const success = data.isSuccess ?? data.success;
        const status = data.status ?? "";
        if (success === false) {
          throw new OpsgenieRefusedError(
            { service: this.product, method: "GET", path, details: [`request ${requestId}`] },
            `request failed: ${status}`,
          );
        }
        if (success === true) return { alertId: data.alertId ?? "", status };
      } catch (err) {
        if (!(err instanceof OpsgenieNotFoundError)) throw err;
      }
      if (attempt >= this.#poll.attempts) {
        throw new OpsgeniePendingError(
          { service: this.product, method: "GET", path },
          "request not processed yet",
        );
      }
      await this.#clock.sleep(delay, opts.signal);
      delay = Math.min(delay * 2, this.#poll.maxDelayMs);
    }
  }

  /** Opsgenie wraps the request status in `data`. */
  protected statusData(body: unknown): RequestStatusData {
    return (body as { data?: RequestStatusData } | null)?.data ?? {};
  }

  /** Responders Opsgenie accepts: any `{type, id}` or `{type, name}`. */
  protected checkResponders(_responders: Responder[]): void {}

  /**
   * Addresses an alert by its alias when known (so a missing id never blocks a note or
   * the close), else by id (plugin data written by the Go plugin has no alias key).
   */
  protected alertTarget(alert: AlertRef, suffix: string, _opts: CallOptions): Promise<AlertTarget> {
    const [identifier, identifierType] = alert.alias ? [alert.alias, "alias"] : [alert.id, "id"];
    return Promise.resolve({
      path: `/alerts/${encodeURIComponent(identifier)}${suffix}`,
      query: { identifierType },
    });
  }

  /** The alert with this alias (open or closed), or null. */
  async getAlertByAlias(alias: string, opts: CallOptions = {}): Promise<AlertRef | null> {
    try {
      const body = await this.api.call<{ data?: { id?: string; alias?: string } }>({
        method: "GET",
        path: `/alerts/${encodeURIComponent(alias)}`,
        query: { identifierType: "alias" },
        signal: opts.signal,
      });
      return body?.data?.id ? { id: body.data.id, alias } : null;
    } catch (err) {
      if (err instanceof OpsgenieNotFoundError) return null;
      throw err;
    }
  }

  /** Adds a note to the alert (asynchronous: accepted, not yet applied). */
  async addNote(alert: AlertRef, note: string, opts: CallOptions = {}): Promise<void> {
    await this.api.call({
      method: "POST",
      ...(await this.alertTarget(alert, "/notes", opts)),
      body: { note },
      signal: opts.signal,
    });
  }

  /** The texts of the alert's notes (newest first, one page of 100). */
  async listNotes(alert: AlertRef, opts: CallOptions = {}): Promise<string[]> {
    const { path, query } = await this.alertTarget(alert, "/notes", opts);
    const body = await this.api.call<{ data?: Array<{ note?: string }>; values?: Array<{ note?: string }> }>({
      method: "GET",
      path,
      query: { ...query, ...this.notesPage },
      signal: opts.signal,
    });
    return (body?.data ?? body?.values ?? []).map((n) => n.note ?? "");
  }

  /** Query of the one page of notes read (the newest 100). */
  protected readonly notesPage: Record<string, string> = { limit: "100" };

  /** Closes the alert; closing a closed alert changes nothing. */
  async closeAlert(alert: AlertRef, opts: CallOptions = {}): Promise<void> {
    await this.api.call({
      method: "POST",
      ...(await this.alertTarget(alert, "/close", opts)),
      body: { source: "Teleport" },
      signal: opts.signal,
    });
  }

  /**
   * Usernames (emails) on call now in the schedule, named by id (a UUID) or by name;
   * null when there is no such schedule.
   */
  async onCallUsers(schedule: string, opts: CallOptions = {}): Promise<string[] | null> {
    try {
      const body = await this.api.call<{ data?: { onCallRecipients?: string[] } }>({
        method: "GET",
        path: `/schedules/${encodeURIComponent(schedule)}/on-calls`,
        query: { scheduleIdentifierType: isId(schedule) ? "id" : "name", flat: "true" },
        signal: opts.signal,
      });
      return body?.data?.onCallRecipients ?? [];
    } catch (err) {
      if (err instanceof OpsgenieNotFoundError) return null;
      throw err;
    }
  }

  /**
   * The on-call username that stands for a Teleport user, or null when there is none:
   * in Opsgenie, the user's login e-mail, which upstream's rule says is the Teleport
   * user name itself.
   */
  identityOf(user: string, _opts: CallOptions = {}): Promise<string | null> {
    return Promise.resolve(user);
  }
}
