/**
 * Wiring: the configuration of one Opsgenie account → transport, client and backend.
 */
import { type Clock, systemClock } from "../../http/clock.ts";
import { OpsgenieBackend, type OpsgenieBackendOptions } from "./backend.ts";
import { DEFAULT_POLL, OpsgenieClient, type PollPolicy } from "./client.ts";
import { DEFAULT_RETRY, OpsgenieTransport, type RetryPolicy } from "./transport.ts";

export const DEFAULT_API_ENDPOINT = "https://api.opsgenie.com";
export const EU_API_ENDPOINT = "https://api.eu.opsgenie.com";
/** Client-side calls per minute per Opsgenie domain (Opsgenie's own buckets are larger for most plans). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface OpsgenieApiConfig {
  apiKey: string;
  /** Host root: https://api.opsgenie.com, https://api.eu.opsgenie.com, or a double. */
  apiEndpoint: string;
  requestTimeout?: number;
  rateLimitPerMinute?: number;
  /** PEM CA bundle trusted in addition to the system roots (private endpoints, proxies). */
  caFile?: string;
}

export interface OpsgenieClientOptions {
  retry?: Partial<RetryPolicy>;
  poll?: Partial<PollPolicy>;
  rateLimitBurst?: number;
  clock?: Clock;
}

/** A client for the account; dispose it to release its HTTP client. */
export function createOpsgenieClient(
  config: OpsgenieApiConfig,
  options: OpsgenieClientOptions = {},
): OpsgenieClient & Disposable {
  const clock = options.clock ?? systemClock;
  const httpClient = config.caFile
    ? Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(config.caFile)] })
    : undefined;
  const transport = new OpsgenieTransport({
    root: `${config.apiEndpoint.replace(/\/+$/, "")}/v2`,
    authorization: `GenieKey ${config.apiKey}`,
    secrets: [config.apiKey],
    requestTimeoutMs: config.requestTimeout || DEFAULT_REQUEST_TIMEOUT_MS,
    ratePerMinute: config.rateLimitPerMinute || DEFAULT_RATE_LIMIT_PER_MINUTE,
    rateLimitBurst: options.rateLimitBurst,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    clock,
    httpClient,
  });
  const client = new OpsgenieClient(transport, clock, { ...DEFAULT_POLL, ...options.poll });
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
