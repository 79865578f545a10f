/**
 * The PagerDuty REST calls that reviews from PagerDuty need, next to the incident
 * client: reading an incident, its log entries and a user back with the plugin's own
 * key (nothing in a webhook payload is trusted), and managing the V3 webhook
 * subscription for `review-setup`. Same transport, headers, errors and retries as
 * the incident client; its own rate-limit bucket (these calls are rare).
 */
import { systemClock } from "../../http/clock.ts";
import { TokenBucket } from "../../http/rate_limiter.ts";
import {
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type PagerDutyClientConfig,
} from "./client.ts";
import { PagerDutyError } from "./errors.ts";
import { DEFAULT_RETRY, type Query, type RetryPolicy, Transport } from "./transport.ts";

/** Reviews run after the webhook was answered: a short budget, then a note. */
const REVIEW_RETRY: RetryPolicy = { ...DEFAULT_RETRY, deadlineMs: 30_000 };
const PAGE_LIMIT = 100;
const MAX_PAGES = 20;

export interface IncidentSnapshot {
  id: string;
  incidentKey: string;
  status: string;
  serviceId: string;
}

export interface LogEntry {
  id: string;
  type: string;
  /** Unix milliseconds; NaN when PagerDuty sent no parsable time. */
  createdAt: number;
  agentId: string;
  agentType: string;
}

export interface PagerDutyUserInfo {
  id: string;
  name: string;
  email: string;
}

export interface WebhookSubscription {
  id: string;
  url: string;
  events: string[];
  filter: { type: string; id: string };
  description: string;
  active: boolean;
  /** Returned by PagerDuty only in the answer to the creation. */
  secret?: string;
}

export interface WebhookSubscriptionInput {
  url: string;
  events: string[];
  serviceId: string;
  description: string;
}

/** The REST calls of reviews from PagerDuty and review-setup (see the file comment). */
export class PagerDutyReviewApi {
  readonly #transport: Transport;
  readonly #httpClient?: Deno.HttpClient;

  constructor(config: PagerDutyClientConfig, options: { retry?: Partial<RetryPolicy> } = {}) {
    if (config.caFile) {
      this.#httpClient = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(config.caFile)] });
    }
    this.#transport = new Transport({
      apiKey: config.apiKey,
      userEmail: config.userEmail,
      apiEndpoint: config.apiEndpoint,
      requestTimeoutMs: config.requestTimeout || DEFAULT_REQUEST_TIMEOUT_MS,
      retry: { ...REVIEW_RETRY, ...options.retry },
      limiter: new TokenBucket(config.rateLimitPerMinute || DEFAULT_RATE_LIMIT_PER_MINUTE),
      clock: systemClock,
      httpClient: this.#httpClient,
    });
  }

  /** The incident as this API key sees it; null when PagerDuty answers 404 (e.g. another account's). */
  async getIncident(id: string): Promise<IncidentSnapshot | null> {
    const raw = await this.#getOrNull<{ incident: RawIncident }>(`/incidents/${encodeURIComponent(id)}`);
    if (!raw) return null;
    return {
      id: raw.incident.id,
      incidentKey: raw.incident.incident_key ?? "",
      status: raw.incident.status ?? "",
      serviceId: raw.incident.service?.id ?? "",
    };
  }

  /** The incident's log entries, newest first (PagerDuty's order), up to MAX_PAGES pages. */
  async listLogEntries(incidentId: string): Promise<LogEntry[]> {
    const entries: LogEntry[] = [];
    const path = `/incidents/${encodeURIComponent(incidentId)}/log_entries`;
    for await (const page of this.#pages<RawLogEntry>(path, "log_entries", [["is_overview", "false"]])) {
      for (const raw of page) {
        entries.push({
          id: raw.id,
          type: raw.type ?? "",
          createdAt: Date.parse(raw.created_at ?? ""),
          agentId: raw.agent?.id ?? "",
          agentType: raw.agent?.type ?? "",
        });
      }
    }
    return entries;
  }

  /** A PagerDuty user by id, or null when there is none. */
  async getUser(id: string): Promise<PagerDutyUserInfo | null> {
    const raw = await this.#getOrNull<{ user: RawUser }>(`/users/${encodeURIComponent(id)}`);
    return raw && { id: raw.user.id, name: raw.user.name ?? "", email: raw.user.email ?? "" };
  }

  /** Webhook subscriptions filtered on one service. */
  async listServiceSubscriptions(serviceId: string): Promise<WebhookSubscription[]> {
    const found: WebhookSubscription[] = [];
    const query: Query = [["filter_type", "service_reference"], ["filter_id", serviceId]];
    for await (
      const page of this.#pages<RawSubscription>("/webhook_subscriptions", "webhook_subscriptions", query)
    ) {
      found.push(...page.map(toSubscription));
    }
    return found;
  }

  /** Creates a V3 subscription; the answer carries the signing secret (only this once). */
  async createSubscription(input: WebhookSubscriptionInput): Promise<WebhookSubscription> {
    const created = await this.#transport.request<{ webhook_subscription: RawSubscription }>({
      method: "POST",
      path: "/webhook_subscriptions",
      body: { webhook_subscription: { ...subscriptionBody(input), active: true } },
    });
    return toSubscription(created.webhook_subscription);
  }

  /** Updates a subscription in place (the secret stays as it was). */
  async updateSubscription(id: string, input: WebhookSubscriptionInput): Promise<WebhookSubscription> {
    const updated = await this.#transport.request<{ webhook_subscription: RawSubscription }>({
      method: "PUT",
      path: `/webhook_subscriptions/${encodeURIComponent(id)}`,
      body: { webhook_subscription: { ...subscriptionBody(input), active: true } },
    });
    return toSubscription(updated.webhook_subscription);
  }

  /** Releases the custom-CA HTTP client, if any. */
  close(): void {
    this.#httpClient?.close();
  }

  async #getOrNull<T>(path: string): Promise<T | null> {
    try {
      return await this.#transport.request<T>({ method: "GET", path });
    } catch (error) {
      if (error instanceof PagerDutyError && error.status === 404) return null;
      throw error;
    }
  }

  async *#pages<T>(path: string, listKey: string, query: Query): AsyncGenerator<T[]> {
    let offset = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const response = await this.#transport.request<Record<string, unknown>>({
        method: "GET",
        path,
        query: [...query, ["limit", String(PAGE_LIMIT)], ["offset", String(offset)]],
      });
      const items = Array.isArray(response?.[listKey]) ? response[listKey] as T[] : [];
      yield items;
      if (response?.more !== true || items.length === 0) return;
      offset += items.length;
    }
  }
}

function subscriptionBody(input: WebhookSubscriptionInput) {
  return {
    type: "webhook_subscription",
    delivery_method: { type: "http_delivery_method", url: input.url },
    events: input.events,
    filter: { type: "service_reference", id: input.serviceId },
    description: input.description,
  };
}

interface RawIncident {
  id: string;
  status?: string;
  incident_key?: string | null;
  service?: { id?: string } | null;
}

interface RawLogEntry {
  id: string;
  type?: string;
  created_at?: string;
  agent?: { id?: string; type?: string } | null;
}

interface RawUser {
  id: string;
  name?: string;
  email?: string;
}

interface RawSubscription {
  id: string;
  delivery_method?: { url?: string; secret?: string | null } | null;
  events?: string[];
  filter?: { type?: string; id?: string } | null;
  description?: string | null;
  active?: boolean;
}

function toSubscription(raw: RawSubscription): WebhookSubscription {
  return {
    id: raw.id,
    url: raw.delivery_method?.url ?? "",
    events: raw.events ?? [],
    filter: { type: raw.filter?.type ?? "", id: raw.filter?.id ?? "" },
    description: raw.description ?? "",
    active: raw.active ?? false,
    ...(raw.delivery_method?.secret ? { secret: raw.delivery_method.secret } : {}),
  };
}
