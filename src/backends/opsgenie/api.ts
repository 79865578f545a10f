/**
 * Wiring: the configuration of one account → REST transports (src/http), client and
 * backend, for either API flavour: Opsgenie (`GenieKey`) or JSM Operations (Basic
 * e-mail:token). Opsgenie limits each domain (alerts, schedules, heartbeats, …) on its
 * own, so each domain gets its own rate-limit gate.
 */
import {
  DEFAULT_OPSGENIE_RATE_LIMIT_PER_MINUTE,
  DEFAULT_OPSGENIE_REQUEST_TIMEOUT_MS,
} from "../../config/opsgenie.ts";
import { type Clock, systemClock } from "../../http/clock.ts";
import {
  createHttpClient,
  RestTransport,
  type RestTransportOptions,
  type RetryPolicy,
} from "../../http/transport.ts";
import { OpsgenieBackend, type OpsgenieBackendOptions } from "./backend.ts";
import {
  DEFAULT_POLL,
  type OpsgenieCall,
  type OpsgenieCaller,
  OpsgenieClient,
  type PollPolicy,
} from "./client.ts";
import { opsgenieRetryAfterMs, parseOpsgenieError } from "./errors.ts";
import { JsmClient } from "./jsm_client.ts";

/** Opsgenie's REST API, or its successor, Jira Service Management Operations. */
export type ApiFlavour = "opsgenie" | "jsm";

export interface OpsgenieApiConfig {
  /** Default "opsgenie". */
  api?: ApiFlavour;
  /** Opsgenie: the API integration's key. */
  apiKey?: string;
  /** JSM: the site's cloud id, and the account e-mail and API token of the plugin's user. */
  cloudId?: string;
  userEmail?: string;
  apiToken?: string;
  /** Host root: https://api.opsgenie.com, https://api.eu.opsgenie.com, https://api.atlassian.com, or a double. */
  apiEndpoint: string;
  requestTimeout?: number;
  rateLimitPerMinute?: number;
  /** PEM CA bundle trusted in addition to the system roots (private endpoints, proxies). */
  caFile?: string;
}

export interface OpsgenieClientOptions {
  /** Metrics: one call per HTTP exchange, and the time spent waiting for the rate limit. */
  observe?: RestTransportOptions["observe"];
  onRateLimitWait?: RestTransportOptions["onRateLimitWait"];
  retry?: Partial<RetryPolicy>;
  poll?: Partial<PollPolicy>;
  rateLimitBurst?: number;
  clock?: Clock;
}

/** One RestTransport per rate-limit domain (the first path segment), created on first use. */
class DomainTransports implements OpsgenieCaller {
  readonly #transports = new Map<string, RestTransport>();

  constructor(private readonly options: RestTransportOptions) {}

  call<T>(call: OpsgenieCall): Promise<T> {
    const domain = call.path.split("/")[1] ?? "";
    let transport = this.#transports.get(domain);
    if (!transport) this.#transports.set(domain, transport = new RestTransport(this.options));
    return transport.request<T>({
      method: call.method,
      path: call.path,
      query: call.query && Object.entries(call.query),
      body: call.body,
      signal: call.signal,
      recover: call.recover,
    });
  }
}

/** A client for the account; dispose it to release its HTTP client. */
export function createOpsgenieClient(
  config: OpsgenieApiConfig,
  options: OpsgenieClientOptions = {},
): OpsgenieClient & Disposable {
  const clock = options.clock ?? systemClock;
  const httpClient = createHttpClient({ caFile: config.caFile });
  const endpoint = config.apiEndpoint.replace(/\/+$/, "");
  const jsm = config.api === "jsm";
  const common = {
    service: jsm ? "JSM Operations" : "Opsgenie",
    parseError: parseOpsgenieError,
    retryAfterMs: opsgenieRetryAfterMs,
    ratePerMinute: config.rateLimitPerMinute || DEFAULT_OPSGENIE_RATE_LIMIT_PER_MINUTE,
    burst: options.rateLimitBurst,
    requestTimeoutMs: config.requestTimeout || DEFAULT_OPSGENIE_REQUEST_TIMEOUT_MS,
    retry: options.retry,
    clock,
    httpClient,
    observe: options.observe,
    onRateLimitWait: options.onRateLimitWait,
  };
  const poll = { ...DEFAULT_POLL, ...options.poll };
  let client: OpsgenieClient;
  if (jsm) {
    const basic = btoa(`${config.userEmail ?? ""}:${config.apiToken ?? ""}`);
    // The token inside the Basic credentials is scrubbed by the redaction of logs as well.
    const credentials = { authorization: `Basic ${basic}`, secret: config.apiToken ?? "" };
    const cloudId = encodeURIComponent(config.cloudId ?? "");
    client = new JsmClient(
      new DomainTransports({ ...common, ...credentials, endpoint: `${endpoint}/jsm/ops/api/${cloudId}/v1` }),
      new DomainTransports({
        ...common,
        ...credentials,
        endpoint: `${endpoint}/ex/jira/${cloudId}/rest/api/3`,
      }),
      clock,
      poll,
    );
  } else {
    const key = config.apiKey ?? "";
    client = new OpsgenieClient(
      new DomainTransports({
        ...common,
        authorization: `GenieKey ${key}`,
        secret: key,
        endpoint: `${endpoint}/v2`,
      }),
      clock,
      poll,
    );
  }
  return Object.assign(client, { [Symbol.dispose]: () => httpClient?.close() });
}

/** The backend for the account. */
export function createOpsgenieBackend(
  config: OpsgenieApiConfig,
  behaviour: OpsgenieBackendOptions,
  options: OpsgenieClientOptions = {},
): OpsgenieBackend & Disposable {
  const client = createOpsgenieClient(config, options);
  return Object.assign(new OpsgenieBackend(client, behaviour), {
    [Symbol.dispose]: () => client[Symbol.dispose](),
  });
}
