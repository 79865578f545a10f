/**
 * PagerDutyDouble: an in-process stand-in for the PagerDuty REST API v2, modelled on the
 * real service (not on the upstream Go fake): substring `query` search, limit/offset/more
 * pagination, the `{"error":{code,message,errors}}` envelope, `incident_key` dedup,
 * authentication and `From` checks, plus programmable faults.
 *
 * Test-facing API
 * ---------------
 *   const pd = await PagerDutyDouble.start({ apiKey?, tls? });  // Deno.serve on 127.0.0.1, port 0;
 *                                                          //   tls: { cert, key } (PEM) → https URL
 *   pd.url, pd.apiKey                                      // base URL to configure, expected key
 *   pd.rotateApiKey(next)                                  // the old key gets 401 from now on
 *   pd.keyAccess = "read-only"                             // the key may only GET: other methods → 403
 *   pd.addService({ name, escalationPolicyId? })           // → { id, name, escalationPolicyId }
 *   pd.addUser({ name, email })                            // → { id, name, email }
 *   pd.addOnCall({ userId, escalationPolicyId, level? })
 *   Reviews from PagerDuty (webhooks *to* the plugin):
 *   pd.addWorkflow({ name })                               // → { workflowId, triggerId } manual trigger
 *   pd.addCustomAction({ serviceId, name, url, headers })  // → action id (a V2 Custom Incident Action)
 *   pd.workflowDelivery({ incidentId, userId, triggerId, … overrides })
 *                                                          // → signed V3 deliveries (not sent), one per
 *                                                          //   matching subscription: { url, headers, body }
 *   pd.pressWorkflowTrigger({ incidentId, userId, triggerId })  // log entry + send → { eventId, statuses }
 *   pd.pressCustomAction({ incidentId, userId, actionId })      // log entry + V2 POST → { eventId, status }
 *   pd.deliver({ url, headers, body })                     // POST one delivery → Response status
 *   pd.subscriptions()                                     // webhook subscriptions (with secrets)
 *   pd.incidents()                                         // snapshots: id, title, details, status,
 *                                                          //   incidentKey, serviceId, notes[]
 *   pd.notes(incidentId)                                   // → [{ id, content, from }]
 *   pd.requests                                            // every request: method, path, query
 *                                                          //   (URLSearchParams), rawQuery, headers,
 *                                                          //   body, at (performance.now()), status
 *   pd.violations                                          // contract violations: { method, path, problem }
 *   pd.countCalls(method, pathPrefix)
 *   Faults — a selector picks the requests: { everyNth } | { nextN } | { forMs } (none = all),
 *   optionally narrowed by { method, pathPrefix }:
 *   pd.inject429(selector, { retryAfterSeconds?, rateLimitResetSeconds? })
 *   pd.inject5xx(selector, status = 500)
 *   pd.injectLatency(selector, ms)
 *   pd.injectConnectionReset(selector)                     // closes the TCP connection, no response
 *   pd.setServerRateLimit({ limit, windowMs } | null)      // N requests per window, then 429s;
 *                                                          //   ratelimit-* headers on every answer
 *   pd.clearFaults()
 *   await pd.waitFor(() => pd.incidents().length === 3, timeoutMs = 5000)
 *   await pd.close()
 *
 * Faulted requests are recorded (status 429/5xx, or 0 for a reset) but change no state.
 * Contract checks never block a request by themselves except where PagerDuty itself
 * would refuse it (auth, `From`, malformed bodies); every problem lands in `violations`.
 */

import { createHmac } from "node:crypto";
import type { FaultSelector, RecordedRequest, TlsIdentity, Violation } from "./http_double.ts";
import { ApiError, HttpApiDouble, json, type RateLimitHint } from "./http_api_double.ts";

export type { FaultSelector, RecordedRequest, TlsIdentity, Violation };

const ACCEPT = "application/vnd.pagerduty+json;version=2";
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export interface DoubleService {
  id: string;
  name: string;
  escalationPolicyId: string;
}

export interface DoubleUser {
  id: string;
  name: string;
  email: string;
}

export interface DoubleNote {
  id: string;
  content: string;
  from: string;
}

export interface DoubleIncident {
  id: string;
  title: string;
  details: unknown;
  status: "triggered" | "acknowledged" | "resolved";
  incidentKey: string | null;
  serviceId: string;
  notes: DoubleNote[];
}

export interface DoubleLogEntry {
  id: string;
  type: string;
  createdAt: string;
  agent: { id: string; type: string } | null;
}

export interface DoubleSubscription {
  id: string;
  url: string;
  customHeaders: Array<{ name: string; value: string }>;
  events: string[];
  filter: { type: string; id?: string };
  description: string;
  active: boolean;
  secret: string;
}

export interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

interface CustomAction {
  id: string;
  serviceId: string;
  name: string;
  url: string;
  headers: Record<string, string>;
}

interface OnCall {
  userId: string;
  escalationPolicyId: string;
  level: number;
}

type Json = Record<string, unknown>;

/** A refusal with PagerDuty's error code and details. */
class HttpError extends ApiError {
  constructor(
    status: number,
    message: string,
    readonly code: number,
    readonly errors: string[] = [],
  ) {
    super(status, message);
  }
}

const invalid = (...errors: string[]) => new HttpError(400, "Invalid Input Provided", 2001, errors);

export class PagerDutyDouble extends HttpApiDouble {
  /** The one key the account accepts; `rotateApiKey` replaces it (the old one then gets 401). */
  apiKey: string;
  /** A read-only REST API key answers every non-GET request with 403 (PagerDuty's API reference). */
  keyAccess: "full" | "read-only" = "full";
  /** PagerDuty answers most contract slips anyway; they are recorded, and refused only where PagerDuty refuses. */
  protected override readonly refuseViolations = false;

  readonly #services: DoubleService[] = [];
  readonly #users: DoubleUser[] = [];
  readonly #onCalls: OnCall[] = [];
  readonly #incidents: DoubleIncident[] = [];
  readonly #logEntries = new Map<string, DoubleLogEntry[]>();
  readonly #subscriptions: DoubleSubscription[] = [];
  readonly #workflows: Array<{ workflowId: string; triggerId: string; name: string }> = [];
  readonly #actions: CustomAction[] = [];
  #nextId = 1;

  private constructor(apiKey: string, tls?: TlsIdentity) {
    super(tls);
    this.apiKey = apiKey;
  }

  /** With `tls`, clients reach the double over HTTPS with that certificate (e.g. one nobody trusts). */
  static start(options: { apiKey?: string; tls?: TlsIdentity } = {}): Promise<PagerDutyDouble> {
    return Promise.resolve(new PagerDutyDouble(options.apiKey ?? "u+TEST_pd_api_key_0123", options.tls));
  }
  /** Revokes the current API key and accepts only `next` from now on. */
  rotateApiKey(next: string): void {
    this.apiKey = next;
  }

  addService(spec: { name: string; escalationPolicyId?: string }): DoubleService {
    // Every real PagerDuty service has an escalation policy.
    const service = {
      id: this.#id("PS"),
      name: spec.name,
      escalationPolicyId: spec.escalationPolicyId ?? this.#id("PE"),
    };
    this.#services.push(service);
    return { ...service };
  }

  addUser(spec: { name: string; email: string }): DoubleUser {
    const user = { id: this.#id("PU"), ...spec };
    this.#users.push(user);
    return { ...user };
  }

  addOnCall(spec: { userId: string; escalationPolicyId: string; level?: number }): void {
    this.#onCalls.push({ level: 1, ...spec });
  }

  /** The services, as added. */
  services(): DoubleService[] {
    return [...this.#services];
  }

  addWorkflow(spec: { name: string }): { workflowId: string; triggerId: string } {
    const workflow = { workflowId: this.#id("PW"), triggerId: this.#id("PT"), name: spec.name };
    this.#workflows.push(workflow);
    return { workflowId: workflow.workflowId, triggerId: workflow.triggerId };
  }

  addCustomAction(spec: Omit<CustomAction, "id">): string {
    const action = { id: this.#id("PX"), ...spec };
    this.#actions.push(action);
    return action.id;
  }

  subscriptions(): DoubleSubscription[] {
    return this.#subscriptions.map((s) => ({ ...s, filter: { ...s.filter } }));
  }

  logEntries(incidentId: string): DoubleLogEntry[] {
    return [...(this.#logEntries.get(incidentId) ?? [])];
  }

  /**
   * The V3 `incident.workflow.started` deliveries PagerDuty would send when `userId`
   * presses the manual trigger on the incident: one per active subscription covering
   * the incident's service, signed with that subscription's secret. `event` overrides
   * fields of the event (tests make stale or forged ones).
   */
  workflowDelivery(
    spec: { incidentId: string; userId: string; triggerId: string; event?: Json; webhookId?: string },
  ): Delivery[] {
    const incident = this.#incidents.find((i) => i.id === spec.incidentId);
    const workflow = this.#workflows.find((w) => w.triggerId === spec.triggerId);
    const serviceId = incident?.serviceId ?? "";
    const event = {
      id: this.#id("PEV"),
      event_type: "incident.workflow.started",
      resource_type: "incident",
      occurred_at: new Date().toISOString(),
      agent: { id: spec.userId, type: "user_reference" },
      client: null,
      data: {
        id: this.#id("PWI"),
        type: "incident_workflow_instance",
        incident_workflow: { id: workflow?.workflowId ?? "PWUNKNOWN", type: "incident_workflow_reference" },
        workflow_trigger: { id: spec.triggerId, type: "workflow_trigger_reference" },
        incident: { id: spec.incidentId, type: "incident_reference" },
        service: { id: serviceId, type: "service_reference" },
      },
      ...spec.event,
    };
    const body = JSON.stringify({ event });
    return this.#subscriptions.filter((s) =>
      s.active && s.events.includes(event.event_type) &&
      (s.filter.type === "account_reference" || s.filter.id === serviceId)
    ).map((s) => ({
      url: s.url,
      body,
      headers: {
        ...Object.fromEntries(s.customHeaders.map((h) => [h.name, h.value])),
        "content-type": "application/json",
        "user-agent": "PagerDuty-Webhook/V3.0",
        "x-webhook-id": spec.webhookId ?? crypto.randomUUID(),
        "x-webhook-subscription": s.id,
        "x-pagerduty-signature": hmacSignature(s.secret, body),
      },
    }));
  }

  /** A user presses a manual workflow trigger: a log entry, then the signed deliveries. */
  async pressWorkflowTrigger(
    spec: { incidentId: string; userId: string; triggerId: string },
  ): Promise<{ eventId: string; statuses: number[] }> {
    this.#log(spec.incidentId, "incident_workflow_log_entry", spec.userId);
    const deliveries = this.workflowDelivery(spec);
    const statuses = [];
    for (const delivery of deliveries) statuses.push(await this.deliver(delivery));
    return { eventId: deliveries[0] ? JSON.parse(deliveries[0].body).event.id : "", statuses };
  }

  /** A user presses a Custom Incident Action: a custom_log_entry, then the unsigned V2 POST. */
  async pressCustomAction(
    spec: { incidentId: string; userId: string; actionId: string },
  ): Promise<{ eventId: string; status: number }> {
    const action = this.#actions.find((a) => a.id === spec.actionId);
    const incident = this.#incidents.find((i) => i.id === spec.incidentId);
    if (!action || !incident) throw new Error("pressCustomAction: unknown action or incident");
    const entry = this.#log(spec.incidentId, "custom_log_entry", spec.userId);
    const message = {
      id: this.#id("PM"),
      event: "incident.custom",
      created_on: entry.createdAt,
      incident: {
        ...incidentJson(incident),
        html_url: `https://example.pagerduty.com/incidents/${incident.id}`,
      },
      webhook: { endpoint_url: action.url, name: action.name, type: "webhook" },
      log_entries: [{ ...entry, channel: { type: "web_trigger" } }],
    };
    const status = await this.deliver({
      url: action.url,
      body: JSON.stringify({ messages: [message] }),
      headers: { ...action.headers, "content-type": "application/json", "x-webhook-id": crypto.randomUUID() },
    });
    return { eventId: message.id, status };
  }

  /** Sends one delivery; returns the HTTP status the receiver answered. */
  async deliver(delivery: Delivery): Promise<number> {
    const response = await fetch(delivery.url, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    await response.body?.cancel();
    return response.status;
  }

  #log(incidentId: string, type: string, userId: string): DoubleLogEntry {
    const entry = {
      id: this.#id("PL"),
      type,
      createdAt: new Date().toISOString(),
      agent: { id: userId, type: "user_reference" },
    };
    this.#logEntries.set(incidentId, [entry, ...(this.#logEntries.get(incidentId) ?? [])]);
    return entry;
  }

  incidents(): DoubleIncident[] {
    return this.#incidents.map((i) => ({ ...i, notes: i.notes.map((n) => ({ ...n })) }));
  }

  notes(incidentId: string): DoubleNote[] {
    return this.#incidents.find((i) => i.id === incidentId)?.notes.map((n) => ({ ...n })) ?? [];
  }

  #id(prefix: string): string {
    return prefix + (this.#nextId++).toString(36).toUpperCase().padStart(5, "0");
  }

  // ---- hooks of the shared HTTP front -------------------------------------------------

  protected contractProblems(r: RecordedRequest): string[] {
    const problems: string[] = [];
    const accept = r.headers.get("accept");
    if (accept !== ACCEPT) problems.push(`Accept is ${JSON.stringify(accept)}`);
    const contentType = r.headers.get("content-type");
    if (contentType !== "application/json") problems.push(`Content-Type is ${JSON.stringify(contentType)}`);
    if (!r.headers.has("authorization")) problems.push("Authorization header missing");
    if (r.method !== "GET") {
      const from = r.headers.get("from");
      if (!from || !EMAIL.test(from)) problems.push(`From is ${JSON.stringify(from)}, not an email`);
    }
    for (const key of r.query.keys()) {
      if (["user_ids", "escalation_policy_ids", "service_ids", "statuses"].includes(key)) {
        problems.push(`array parameter ${key} without []`);
      }
    }
    return problems;
  }

  /** PagerDuty's limit is per API key, not per domain. */
  protected domainOf(_path: string): string {
    return "";
  }

  /** The `ratelimit-*` headers PagerDuty puts on every answer (reset in whole seconds). */
  protected override rateLimitHeaders(
    state: { limit: number; remaining: number; resetSeconds: number },
  ): Record<string, string> {
    return {
      "ratelimit-limit": String(state.limit),
      "ratelimit-remaining": String(state.remaining),
      "ratelimit-reset": String(state.resetSeconds),
    };
  }

  protected renderError(err: ApiError): Response {
    return envelope(err instanceof HttpError ? err : new HttpError(err.status, err.message, 5000));
  }

  protected tooManyRequests(hint: RateLimitHint): Response {
    return tooManyRequests(hint);
  }

  protected authorize(r: RecordedRequest): void {
    if (r.headers.get("authorization") !== `Token token=${this.apiKey}`) {
      throw new HttpError(401, "Authentication failed", 2006);
    }
    if (r.method !== "GET" && this.keyAccess === "read-only") {
      throw new HttpError(403, "Access Denied", 2010, ["The API key is read-only."]);
    }
    if (r.method !== "GET") {
      const from = r.headers.get("from");
      if (!from) {
        throw invalid(
          'You must specify a user\'s email address in the "From" header to perform this action.',
        );
      }
      if (!EMAIL.test(from)) throw invalid('The email address in the "From" header is invalid.');
    }
  }

  protected route(r: RecordedRequest): Response {
    const key = `${r.method} ${
      r.path.replace(/^\/(incidents|users|webhook_subscriptions)\/[^/]+/, "/$1/:id")
    }`;
    const id = decodeURIComponent(r.path.split("/")[2] ?? "");
    switch (key) {
      case "GET /abilities":
        return json(200, { abilities: ["sso", "teams", "urgencies", "read_only_users"] });
      case "GET /services":
        return this.#listServices(r);
      case "GET /users":
        return this.#listUsers(r);
      case "GET /oncalls":
        return this.#listOnCalls(r);
      case "GET /incidents":
        return this.#listIncidents(r);
      case "POST /incidents":
        return this.#createIncident(r);
      case "POST /incidents/:id/notes":
        return this.#createNote(r, id);
      case "GET /incidents/:id/notes":
        return this.#listNotes(id);
      case "PUT /incidents/:id":
        return this.#updateIncident(r, id);
      case "GET /incidents/:id":
        return json(200, { incident: incidentJson(this.#findIncident(id)) });
      case "GET /incidents/:id/log_entries":
        this.#findIncident(id);
        return paginate(r, "log_entries", (this.#logEntries.get(id) ?? []).map(logEntryJson));
      case "GET /users/:id":
        return this.#getUser(id);
      case "GET /webhook_subscriptions":
        return this.#listSubscriptions(r);
      case "POST /webhook_subscriptions":
        return this.#createSubscription(r);
      case "GET /webhook_subscriptions/:id":
        return json(200, { webhook_subscription: subscriptionJson(this.#findSubscription(id), false) });
      case "PUT /webhook_subscriptions/:id":
        return this.#updateSubscription(r, id);
      default:
        throw new HttpError(404, "Not Found", 2100);
    }
  }

  #listServices(r: RecordedRequest): Response {
    const q = (r.query.get("query") ?? "").toLowerCase();
    const matches = this.#services.filter((s) => s.name.toLowerCase().includes(q));
    return paginate(r, "services", matches.map(serviceJson));
  }

  #listUsers(r: RecordedRequest): Response {
    const q = (r.query.get("query") ?? "").toLowerCase();
    const matches = this.#users.filter((u) =>
      u.name.toLowerCase().includes(q) || u.email.toLowerCase().includes(q)
    );
    return paginate(r, "users", matches.map((u) => ({ ...u, type: "user", summary: u.name })));
  }

  #listOnCalls(r: RecordedRequest): Response {
    const userIds = r.query.getAll("user_ids[]");
    const policyIds = r.query.getAll("escalation_policy_ids[]");
    const matches = this.#onCalls.filter((o) =>
      (userIds.length === 0 || userIds.includes(o.userId)) &&
      (policyIds.length === 0 || policyIds.includes(o.escalationPolicyId))
    );
    return paginate(r, "oncalls", matches.map((o) => onCallJson(o, this.#users)));
  }

  #listIncidents(r: RecordedRequest): Response {
    const key = r.query.get("incident_key");
    const serviceIds = r.query.getAll("service_ids[]");
    const statuses = r.query.getAll("statuses[]");
    const matches = this.#incidents.filter((i) =>
      (key === null || i.incidentKey === key) &&
      (serviceIds.length === 0 || serviceIds.includes(i.serviceId)) &&
      (statuses.length === 0 || statuses.includes(i.status))
    );
    return paginate(r, "incidents", matches.map(incidentJson));
  }

  #createIncident(r: RecordedRequest): Response {
    const incident = this.#shape(r, () => validateCreate(r.body));
    const service = this.#services.find((s) => s.id === incident.serviceId);
    if (!service) throw invalid("Service not found.");
    const key = incident.incidentKey;
    if (
      key !== null &&
      this.#incidents.some((i) =>
        i.incidentKey === key && i.serviceId === service.id && i.status !== "resolved"
      )
    ) {
      throw invalid(`Open incident with key '${key}' already exists on this service.`);
    }
    const created: DoubleIncident = { id: this.#id("Q"), status: "triggered", notes: [], ...incident };
    this.#incidents.push(created);
    return json(201, { incident: incidentJson(created) });
  }

  #createNote(r: RecordedRequest, id: string): Response {
    const content = this.#shape(r, () => validateNote(r.body));
    const incident = this.#findIncident(id);
    const note = { id: this.#id("PN"), content, from: r.headers.get("from") ?? "" };
    incident.notes.push(note);
    return json(200, { note: { id: note.id, content, created_at: new Date().toISOString() } });
  }

  #listNotes(id: string): Response {
    const notes = this.#findIncident(id).notes.map((n) => ({ id: n.id, content: n.content }));
    return json(200, { notes });
  }

  #updateIncident(r: RecordedRequest, id: string): Response {
    const status = this.#shape(r, () => validateUpdate(r.body));
    const incident = this.#findIncident(id);
    if (status) incident.status = status;
    return json(200, { incident: incidentJson(incident) });
  }

  #getUser(id: string): Response {
    const user = this.#users.find((u) => u.id === id);
    if (!user) throw new HttpError(404, "Not Found", 2100, ["User Not Found"]);
    return json(200, { user: { ...user, type: "user", summary: user.name } });
  }

  #listSubscriptions(r: RecordedRequest): Response {
    const filterType = r.query.get("filter_type");
    const filterId = r.query.get("filter_id");
    const matches = this.#subscriptions.filter((s) =>
      (!filterType || s.filter.type === filterType) && (!filterId || s.filter.id === filterId)
    );
    return paginate(r, "webhook_subscriptions", matches.map((s) => subscriptionJson(s, false)));
  }

  #createSubscription(r: RecordedRequest): Response {
    const spec = this.#shape(r, () => validateSubscription(r.body, true));
    const secret = Array.from(
      crypto.getRandomValues(new Uint8Array(24)),
      (b) => b.toString(16).padStart(2, "0"),
    )
      .join("");
    const created: DoubleSubscription = {
      id: this.#id("PWS"),
      secret,
      active: true,
      ...spec,
    } as DoubleSubscription;
    this.#subscriptions.push(created);
    // The secret is in this answer only.
    return json(201, { webhook_subscription: subscriptionJson(created, true) });
  }

  #updateSubscription(r: RecordedRequest, id: string): Response {
    const subscription = this.#findSubscription(id);
    const spec = this.#shape(r, () => validateSubscription(r.body, false));
    Object.assign(subscription, spec);
    return json(200, { webhook_subscription: subscriptionJson(subscription, false) });
  }

  #findSubscription(id: string): DoubleSubscription {
    const found = this.#subscriptions.find((s) => s.id === id);
    if (!found) throw new HttpError(404, "Not Found", 2100, ["Webhook Subscription Not Found"]);
    return found;
  }

  #findIncident(id: string): DoubleIncident {
    const incident = this.#incidents.find((i) => i.id === id);
    if (!incident) throw new HttpError(404, "Not Found", 2100, ["Incident Not Found"]);
    return incident;
  }

  /** Runs a body validator; a shape problem is both a violation and a 400. */
  #shape<T>(r: RecordedRequest, validate: () => T): T {
    try {
      return validate();
    } catch (err) {
      if (err instanceof HttpError) {
        this.violations.push({ method: r.method, path: r.path, problem: `body: ${err.errors.join("; ")}` });
      }
      throw err;
    }
  }
}

// ---- body validation (the parts of the OpenAPI schema a plugin touches) ---------------

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function validateCreate(body: unknown): Omit<DoubleIncident, "id" | "status" | "notes"> {
  const incident = isObject(body) ? body.incident : undefined;
  if (!isObject(incident)) throw invalid("incident is required and must be an object.");
  if (incident.type !== "incident") throw invalid('incident.type must be "incident".');
  if (typeof incident.title !== "string" || incident.title === "") throw invalid("Title cannot be empty.");
  const service = incident.service;
  if (!isObject(service) || typeof service.id !== "string" || service.type !== "service_reference") {
    throw invalid("incident.service must be a service_reference with an id.");
  }
  const key = incident.incident_key;
  if (key !== undefined && typeof key !== "string") throw invalid("incident.incident_key must be a string.");
  const body_ = incident.body;
  if (body_ !== undefined && (!isObject(body_) || body_.type !== "incident_body" || !("details" in body_))) {
    throw invalid("incident.body must be an incident_body with details.");
  }
  return {
    title: incident.title,
    details: isObject(body_) ? body_.details : undefined,
    incidentKey: key ?? null,
    serviceId: service.id,
  };
}

/** A webhook_subscription body (PDS WebhookSubscription); `create` requires every field. */
function validateSubscription(body: unknown, create: boolean): Partial<DoubleSubscription> {
  const sub = isObject(body) ? body.webhook_subscription : undefined;
  if (!isObject(sub)) throw invalid("webhook_subscription is required and must be an object.");
  const out: Partial<DoubleSubscription> = {};
  if (create && sub.type !== "webhook_subscription") throw invalid('type must be "webhook_subscription".');
  const delivery = sub.delivery_method;
  if (delivery !== undefined || create) {
    if (!isObject(delivery) || delivery.type !== "http_delivery_method" || typeof delivery.url !== "string") {
      throw invalid("delivery_method must be an http_delivery_method with a url.");
    }
    const url = new URL(delivery.url);
    // PagerDuty delivers to https only; the double also accepts loopback http for tests.
    if (url.protocol !== "https:" && url.hostname !== "127.0.0.1") throw invalid("url must be https.");
    out.url = delivery.url;
    const headers = delivery.custom_headers ?? [];
    if (!Array.isArray(headers)) throw invalid("custom_headers must be an array.");
    out.customHeaders = headers.map((h) => ({ name: String(h?.name), value: String(h?.value) }));
  }
  if (sub.events !== undefined || create) {
    if (
      !Array.isArray(sub.events) || sub.events.length === 0 || sub.events.some((e) => typeof e !== "string")
    ) {
      throw invalid("events must be a non-empty array of event types.");
    }
    out.events = sub.events as string[];
  }
  if (sub.filter !== undefined || create) {
    const filter = sub.filter;
    const types = ["service_reference", "team_reference", "account_reference"];
    if (!isObject(filter) || !types.includes(String(filter.type))) throw invalid("filter.type is invalid.");
    if (filter.type !== "account_reference" && typeof filter.id !== "string") {
      throw invalid("filter.id is required.");
    }
    out.filter = { type: String(filter.type), ...(typeof filter.id === "string" ? { id: filter.id } : {}) };
  }
  if (sub.description !== undefined) out.description = String(sub.description);
  else if (create) out.description = "";
  if (typeof sub.active === "boolean") out.active = sub.active;
  return out;
}

function validateNote(body: unknown): string {
  const note = isObject(body) ? body.note : undefined;
  if (!isObject(note) || typeof note.content !== "string" || note.content === "") {
    throw invalid("note.content is required.");
  }
  return note.content;
}

function validateUpdate(body: unknown): DoubleIncident["status"] | undefined {
  const incident = isObject(body) ? body.incident : undefined;
  if (!isObject(incident)) throw invalid("incident is required and must be an object.");
  if (incident.type !== "incident" && incident.type !== "incident_reference") {
    throw invalid("incident.type must be incident or incident_reference.");
  }
  for (const ref of ["service", "escalation_policy"]) {
    const value = incident[ref];
    if (
      value !== undefined &&
      (!isObject(value) || typeof value.id !== "string" || typeof value.type !== "string")
    ) {
      throw invalid(`incident.${ref} must have an id and a type.`);
    }
  }
  const status = incident.status;
  if (status !== undefined && status !== "resolved" && status !== "acknowledged" && status !== "triggered") {
    throw invalid("incident.status is invalid.");
  }
  return status;
}

// ---- response rendering ----------------------------------------------------------------

function envelope(err: HttpError, headers: Record<string, string> = {}): Response {
  const error = {
    message: err.message,
    code: err.code,
    ...(err.errors.length ? { errors: err.errors } : {}),
  };
  return json(err.status, { error }, headers);
}

function tooManyRequests(spec: RateLimitHint) {
  const headers: Record<string, string> = {
    "ratelimit-limit": String(spec.limit ?? 960),
    "ratelimit-remaining": "0",
  };
  if (spec.retryAfterSeconds !== undefined) headers["retry-after"] = String(spec.retryAfterSeconds);
  if (spec.rateLimitResetSeconds !== undefined) {
    headers["ratelimit-reset"] = String(spec.rateLimitResetSeconds);
  }
  return envelope(new HttpError(429, "Too Many Requests", 2020, ["Rate limit exceeded."]), headers);
}

function paginate(r: RecordedRequest, listKey: string, items: unknown[]): Response {
  const limit = intParam(r, "limit", DEFAULT_LIMIT);
  const offset = intParam(r, "offset", 0);
  const effective = Math.min(Math.max(limit, 1), MAX_LIMIT);
  const page = items.slice(offset, offset + effective);
  return json(200, {
    [listKey]: page,
    limit: effective,
    offset,
    more: offset + effective < items.length,
    total: r.query.get("total") === "true" ? items.length : null,
  });
}

function intParam(r: RecordedRequest, name: string, fallback: number): number {
  const raw = r.query.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw invalid(`${name} must be a non-negative integer.`);
  return Number(raw);
}

function serviceJson(s: DoubleService): Json {
  return {
    id: s.id,
    type: "service",
    name: s.name,
    summary: s.name,
    escalation_policy: { id: s.escalationPolicyId, type: "escalation_policy_reference" },
  };
}

function onCallJson(o: OnCall, users: DoubleUser[]): Json {
  const user = users.find((u) => u.id === o.userId);
  return {
    escalation_policy: { id: o.escalationPolicyId, type: "escalation_policy_reference" },
    escalation_level: o.level,
    schedule: null,
    user: { id: o.userId, type: "user_reference", summary: user?.name ?? "" },
    start: null,
    end: null,
  };
}

function logEntryJson(e: DoubleLogEntry): Json {
  return { id: e.id, type: e.type, created_at: e.createdAt, agent: e.agent, summary: e.type };
}

function subscriptionJson(s: DoubleSubscription, withSecret: boolean): Json {
  return {
    id: s.id,
    type: "webhook_subscription",
    active: s.active,
    delivery_method: {
      type: "http_delivery_method",
      url: s.url,
      custom_headers: s.customHeaders,
      secret: withSecret ? s.secret : null,
      temporarily_disabled: false,
    },
    description: s.description,
    events: s.events,
    filter: s.filter,
  };
}

/** `X-PagerDuty-Signature` for a body (HMAC-SHA256, lowercase hex). */
function hmacSignature(secret: string, body: string): string {
  return `v1=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

function incidentJson(i: DoubleIncident): Json {
  return {
    id: i.id,
    type: "incident",
    title: i.title,
    summary: i.title,
    status: i.status,
    incident_key: i.incidentKey,
    service: { id: i.serviceId, type: "service_reference" },
  };
}
