/**
 * PagerDuty REST API v2 client: the operations the access-request plugin needs, with
 * retries, a shared rate limiter, cached lookups and idempotent incident creation.
 */
import { LookupCache } from "../../http/cache.ts";
import { type Clock, systemClock } from "../../http/clock.ts";
import { HttpError } from "../../http/errors.ts";
import {
  createHttpClient,
  type Query,
  type RestTransport,
  type RestTransportOptions,
  type RetryPolicy,
} from "../../http/transport.ts";
import { type PagerDutyClientConfig, pagerDutyTransport, pages } from "./rest.ts";
import { MAX_DETAILS_BYTES, MAX_TITLE_CHARS, truncateChars, truncateUtf8 } from "./texts.ts";
import { getLog } from "../../ops/logging.ts";

const logger = getLog("pagerduty");

export const INCIDENT_KEY_PREFIX = "teleport-access-request";
export {
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  PAGERDUTY_ACCEPT,
  type PagerDutyClientConfig,
} from "./rest.ts";
export const DEFAULT_CACHE_TTL_MS = 5 * 60_000;

/** An incident id no account has (PagerDuty ids are upper-case alphanumerics; this one spells its purpose). */
const WRITE_PROBE_INCIDENT_ID = "PTELEPORTCHECK0NOTREAL";

/** Guards against an endpoint that always answers `more: true` (e.g. a static mock). */
const MAX_PAGES = 100;

export interface PagerDutyClientOptions {
  /** Overrides of the retry budget and backoff (tests shrink them). */
  retry?: Partial<RetryPolicy>;
  /** Lifetime of cached service and user lookups. */
  cacheTtlMs?: number;
  /** Token-bucket size; defaults to one second's worth of the rate. */
  rateLimitBurst?: number;
  clock?: Clock;
  /** Metrics: every HTTP exchange, and every wait for the rate-limit gate. */
  observe?: RestTransportOptions["observe"];
  onRateLimitWait?: RestTransportOptions["onRateLimitWait"];
}

export interface CallOptions {
  /** Aborts the operation, including waits for the rate limiter and retries. */
  signal?: AbortSignal;
}

export interface PagerDutyService {
  id: string;
  name: string;
  /** The service's escalation policy id ("" if PagerDuty returned none). */
  escalationPolicyId: string;
}

export interface PagerDutyUser {
  id: string;
  name: string;
  email: string;
}

export interface PagerDutyIncident {
  id: string;
  status: string;
  incidentKey: string;
  serviceId: string;
  title: string;
}

export interface CreateIncidentInput {
  serviceId: string;
  /** Teleport access request id; becomes the incident key. */
  requestId: string;
  title: string;
  details: string;
}

/** The incident key the plugin uses for a request (PagerDuty dedups open incidents on it). */
export function incidentKey(requestId: string): string {
  return `${INCIDENT_KEY_PREFIX}/${requestId}`;
}

export class PagerDutyClient implements Disposable {
  readonly #transport: RestTransport;
  readonly #httpClient?: Deno.HttpClient;
  readonly #services: LookupCache<PagerDutyService>;
  readonly #users: LookupCache<PagerDutyUser>;

  /** Reads `caFile` synchronously: construction happens once, at startup. */
  constructor(config: PagerDutyClientConfig, options: PagerDutyClientOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.#httpClient = createHttpClient({ caFile: config.caFile });
    this.#transport = pagerDutyTransport(config, {
      retry: options.retry,
      burst: options.rateLimitBurst,
      clock,
      httpClient: this.#httpClient,
      observe: options.observe,
      onRateLimitWait: options.onRateLimitWait,
    });
    const ttlMs = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.#services = new LookupCache({ ttlMs, clock });
    this.#users = new LookupCache({ ttlMs, clock });
  }

  /** The API endpoint this client calls (base URL), for messages. */
  get endpoint(): string {
    return this.#transport.endpoint;
  }

  /** Verifies the endpoint and the API key (GET /abilities); throws on any failure. */
  async healthCheck(opts: CallOptions = {}): Promise<void> {
    await this.#transport.request({ method: "GET", path: "/abilities", signal: opts.signal });
  }

  /**
   * The service with exactly this name (case-insensitive), or null. Cached; concurrent
   * callers share one lookup, so an abort by the caller that started it fails them all.
   */
  findServiceByName(name: string, opts: CallOptions = {}): Promise<PagerDutyService | null> {
    return this.#services.get(name.toLowerCase(), async () => {
      const wanted = name.toLowerCase();
      for await (const page of this.#pages<RawService>("/services", "services", [["query", name]], opts)) {
        const match = page.find((s) => s.name?.toLowerCase() === wanted);
        if (match) return toService(match);
      }
      logger.debug("PagerDuty service not found", { pd_service_name: name });
      return null;
    });
  }

  /** The user with exactly this email (case-insensitive), or null. Cached. */
  findUserByEmail(email: string, opts: CallOptions = {}): Promise<PagerDutyUser | null> {
    return this.#users.get(email.toLowerCase(), async () => {
      const wanted = email.toLowerCase();
      for await (const page of this.#pages<RawUser>("/users", "users", [["query", email]], opts)) {
        const match = page.find((u) => u.email?.toLowerCase() === wanted);
        if (match) return { id: match.id, name: match.name ?? "", email: match.email ?? "" };
      }
      logger.debug("PagerDuty user not found", { pd_user_email: email });
      return null;
    });
  }

  /**
   * The subset of `escalationPolicyIds` in which the user is on call right now, at any
   * level, in the order given. Empty and repeated ids are ignored.
   */
  async onCallPolicies(
    userId: string,
    escalationPolicyIds: string[],
    opts: CallOptions = {},
  ): Promise<string[]> {
    const wanted = [...new Set(escalationPolicyIds.filter((id) => id !== ""))];
    if (wanted.length === 0) return [];
    const query: [string, string][] = [
      ["user_ids[]", userId],
      ...wanted.map((id): [string, string] => ["escalation_policy_ids[]", id]),
    ];
    const found = new Set<string>();
    for await (const page of this.#pages<RawOnCall>("/oncalls", "oncalls", query, opts)) {
      for (const oncall of page) {
        const policyId = oncall.escalation_policy?.id ?? "";
        if (oncall.user?.id === userId && wanted.includes(policyId)) found.add(policyId);
      }
      if (found.size === wanted.length) break;
    }
    return wanted.filter((id) => found.has(id));
  }

  /**
   * Creates the incident for an access request, or returns the one that already exists
   * for it: PagerDuty refuses a second open incident with the same key, and a retry
   * after an unknown outcome first looks the key up.
   */
  async createIncident(input: CreateIncidentInput, opts: CallOptions = {}): Promise<PagerDutyIncident> {
    const key = incidentKey(input.requestId);
    const body = {
      incident: {
        type: "incident",
        title: truncateChars(input.title, MAX_TITLE_CHARS),
        service: { id: input.serviceId, type: "service_reference" },
        incident_key: key,
        body: { type: "incident_body", details: truncateUtf8(input.details, MAX_DETAILS_BYTES) },
      },
    };
    try {
      const created = await this.#transport.request<{ incident: RawIncident }>({
        method: "POST",
        path: "/incidents",
        body,
        signal: opts.signal,
        recover: async () => {
          const existing = await this.#findRaw(key, opts);
          if (existing) {
            logger.info("Found the PagerDuty incident of an earlier attempt", {
              pd_incident_id: existing.id,
            });
          }
          return existing && { incident: existing };
        },
      });
      logger.debug("Created PagerDuty incident", {
        pd_incident_id: created.incident.id,
        pd_incident_key: key,
      });
      return toIncident(created.incident);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const existing = await this.findIncidentByKey(key, opts);
      if (!existing) throw err;
      logger.info("PagerDuty incident already exists", { pd_incident_id: existing.id, pd_incident_key: key });
      return existing;
    }
  }

  /** The incident with this key (an open one if several exist), or null. */
  async findIncidentByKey(key: string, opts: CallOptions = {}): Promise<PagerDutyIncident | null> {
    const raw = await this.#findRaw(key, opts);
    return raw ? toIncident(raw) : null;
  }

  /**
   * Adds a note. A retry after an answer that never came (timeout, reset, 5xx) first
   * checks the incident's notes, so a note that landed is not posted twice.
   */
  async addNote(incidentId: string, content: string, opts: CallOptions = {}): Promise<void> {
    await this.#transport.request({
      method: "POST",
      path: `/incidents/${encodeURIComponent(incidentId)}/notes`,
      body: { note: { content } },
      signal: opts.signal,
      recover: async () => (await this.listNotes(incidentId, opts)).includes(content) ? { note: {} } : null,
    });
    logger.debug("Added note to PagerDuty incident", { pd_incident_id: incidentId });
  }

  /** The contents of the incident's notes (PagerDuty returns them all, unpaginated). */
  async listNotes(incidentId: string, opts: CallOptions = {}): Promise<string[]> {
    const response = await this.#transport.request<{ notes?: Array<{ content?: string }> }>({
      method: "GET",
      path: `/incidents/${encodeURIComponent(incidentId)}/notes`,
      signal: opts.signal,
    });
    return (response?.notes ?? []).map((note) => note.content ?? "");
  }

  async resolveIncident(incidentId: string, opts: CallOptions = {}): Promise<void> {
    await this.#transport.request({
      method: "PUT",
      path: `/incidents/${encodeURIComponent(incidentId)}`,
      body: { incident: { type: "incident_reference", status: "resolved" } },
      signal: opts.signal,
    });
    logger.debug("Resolved PagerDuty incident", { pd_incident_id: incidentId });
  }

  /**
   * Whether the API key may write, found out without writing: an update of an incident
   * id that cannot exist. PagerDuty answers 404 to a key that may write and 403 to a
   * read-only key (its API reference: read-only keys get 403 on every non-GET); no
   * incident is touched either way. Used by `check`, never by the plugin's own work.
   */
  async canWrite(opts: CallOptions = {}): Promise<boolean> {
    try {
      await this.#transport.request({
        method: "PUT",
        path: `/incidents/${WRITE_PROBE_INCIDENT_ID}`,
        body: { incident: { type: "incident_reference" } },
        signal: opts.signal,
      });
      return true;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) return true;
      if (err instanceof HttpError && err.status === 403) return false;
      throw err;
    }
  }

  /** The names of every service the key can see (for `check`'s did-you-mean). */
  async listServiceNames(opts: CallOptions = {}): Promise<string[]> {
    const names: string[] = [];
    for await (const page of this.#pages<RawService>("/services", "services", [], opts)) {
      for (const service of page) if (service.name) names.push(service.name);
    }
    return names;
  }

  /** Releases the custom-CA HTTP client, if any. */
  close(): void {
    this.#httpClient?.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #findRaw(key: string, opts: CallOptions): Promise<RawIncident | null> {
    let fallback: RawIncident | null = null;
    const query: Query = [["incident_key", key], ["date_range", "all"]];
    for await (const page of this.#pages<RawIncident>("/incidents", "incidents", query, opts)) {
      for (const incident of page) {
        if (incident.incident_key !== key) continue;
        if (incident.status !== "resolved") return incident;
        fallback ??= incident;
      }
    }
    return fallback;
  }

  /** Yields the pages of a list endpoint (limit/offset/more) until exhausted or the caller stops. */
  #pages<T>(path: string, listKey: string, query: Query, opts: CallOptions): AsyncGenerator<T[]> {
    return pages<T>(this.#transport, { path, listKey, query, signal: opts.signal, maxPages: MAX_PAGES });
  }
}

/**
 * PagerDuty answers a second open incident with the same key with a 400 whose texts
 * mention the key; match on status plus wording rather than one exact sentence. A false
 * positive costs one lookup: the original error is rethrown when nothing is found.
 */
function isDuplicateKeyError(err: unknown): boolean {
  if (!(err instanceof HttpError) || err.status !== 400) return false;
  const text = [err.apiMessage, ...err.details].join(" ").toLowerCase();
  return /(\bkey\b|dedup)/.test(text) && /(already|exists|duplicate)/.test(text);
}

interface RawService {
  id: string;
  name?: string;
  escalation_policy?: { id?: string } | null;
}

interface RawUser {
  id: string;
  name?: string;
  email?: string;
}

interface RawOnCall {
  user?: { id?: string } | null;
  escalation_policy?: { id?: string } | null;
}

interface RawIncident {
  id: string;
  status?: string;
  incident_key?: string | null;
  title?: string;
  service?: { id?: string } | null;
}

function toService(raw: RawService): PagerDutyService {
  return { id: raw.id, name: raw.name ?? "", escalationPolicyId: raw.escalation_policy?.id ?? "" };
}

function toIncident(raw: RawIncident): PagerDutyIncident {
  return {
    id: raw.id,
    status: raw.status ?? "",
    incidentKey: raw.incident_key ?? "",
    serviceId: raw.service?.id ?? "",
    title: raw.title ?? "",
  };
}
