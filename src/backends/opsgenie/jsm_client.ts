/**
 * Jira Service Management Operations: Opsgenie's successor, the same alert model under
 * `…/jsm/ops/api/{cloudId}/v1` (docs/jsm-operations.md records the contract and its
 * sources). What differs from Opsgenie, and is overridden here:
 * - alerts are addressed by id only (`GET /alerts/alias?alias=` finds the id);
 * - the request status is not wrapped in `data`; lists come as `values`;
 * - responders and schedules are ids (a name is a permanent error naming it);
 * - on-call users are Atlassian account ids, so a Teleport user (an e-mail) is looked
 *   up with Jira's user search first;
 * - there is no heartbeat ping for account tokens: one alert listing checks the
 *   endpoint and the credentials.
 */
import type { Clock } from "../../http/clock.ts";
import { LookupCache } from "../../http/cache.ts";
import { PermanentError } from "../../core/errors.ts";
import {
  type AlertRef,
  type AlertTarget,
  type CallOptions,
  DEFAULT_POLL,
  isId,
  type OpsgenieCaller,
  OpsgenieClient,
  type PollPolicy,
  type RequestStatusData,
  type Responder,
} from "./client.ts";
import { OpsgenieNotFoundError } from "./errors.ts";

/** Account lookups change rarely; an hour keeps the approval check to one on-call read. */
const ACCOUNT_CACHE_TTL_MS = 60 * 60_000;

interface JiraUser {
  accountId?: string;
  emailAddress?: string;
  accountType?: string;
}

export class JsmClient extends OpsgenieClient {
  override readonly product = "JSM Operations";
  protected override readonly notesPage: Record<string, string> = {};
  readonly #jira: OpsgenieCaller;
  readonly #accounts: LookupCache<string>;

  /** `ops` calls `…/jsm/ops/api/{cloudId}/v1`, `jira` calls `…/ex/jira/{cloudId}/rest/api/3`. */
  constructor(ops: OpsgenieCaller, jira: OpsgenieCaller, clock: Clock, poll: PollPolicy = DEFAULT_POLL) {
    super(ops, clock, poll);
    this.#jira = jira;
    this.#accounts = new LookupCache({ ttlMs: ACCOUNT_CACHE_TTL_MS, clock });
  }

  override async healthCheck(opts: CallOptions = {}): Promise<void> {
    await this.api.call({ method: "GET", path: "/alerts", query: { size: "1" }, signal: opts.signal });
  }

  protected override statusData(body: unknown): RequestStatusData {
    return (body as RequestStatusData | null) ?? {};
  }

  protected override checkResponders(responders: Responder[]): void {
    const named = responders.filter((r) => !r.id);
    if (named.length > 0) {
      throw new PermanentError(
        `JSM Operations addresses schedules and teams by id; not an id: ${
          named.map((r) => `${r.type} ${JSON.stringify(r.name)}`).join(", ")
        }`,
      );
    }
  }

  /** By id; an alert known only by its alias is looked up first. */
  protected override async alertTarget(
    alert: AlertRef,
    suffix: string,
    opts: CallOptions,
  ): Promise<AlertTarget> {
    let id = alert.id;
    if (!id) {
      const found = await this.getAlertByAlias(alert.alias, opts);
      if (!found) {
        throw new OpsgenieNotFoundError(
          { service: this.product, method: "GET", path: "/alerts/alias" },
          `no alert ${alert.alias}`,
        );
      }
      id = found.id;
    }
    return { path: `/alerts/${encodeURIComponent(id)}${suffix}` };
  }

  override async getAlertByAlias(alias: string, opts: CallOptions = {}): Promise<AlertRef | null> {
    try {
      const body = await this.api.call<{ id?: string }>({
        method: "GET",
        path: "/alerts/alias",
        query: { alias },
        signal: opts.signal,
      });
      return body?.id ? { id: body.id, alias } : null;
    } catch (err) {
      if (err instanceof OpsgenieNotFoundError) return null;
      throw err;
    }
  }

  /** Account ids on call now in the schedule (by id only); null when there is no such schedule. */
  override async onCallUsers(schedule: string, opts: CallOptions = {}): Promise<string[] | null> {
    if (!isId(schedule)) {
      throw new PermanentError(
        `JSM Operations addresses schedules by id; not an id: ${JSON.stringify(schedule)}`,
      );
    }
    try {
      const body = await this.api.call<{ onCallUsers?: string[] }>({
        method: "GET",
        path: `/schedules/${encodeURIComponent(schedule)}/on-calls`,
        query: { flat: "true" },
        signal: opts.signal,
      });
      return body?.onCallUsers ?? [];
    } catch (err) {
      if (err instanceof OpsgenieNotFoundError) return null;
      throw err;
    }
  }

  /** The Atlassian account whose e-mail is exactly the Teleport user name (cached), or null. */
  override identityOf(user: string, opts: CallOptions = {}): Promise<string | null> {
    return this.#accounts.get(user.toLowerCase(), async () => {
      const users = await this.#jira.call<JiraUser[]>({
        method: "GET",
        path: "/user/search",
        query: { query: user },
        signal: opts.signal,
      });
      const match = (users ?? []).find((u) =>
        u.accountType !== "app" && u.emailAddress?.toLowerCase() === user.toLowerCase()
      );
      return match?.accountId ?? null;
    });
  }
}
