/**
 * PagerDuty's REST conventions on top of the generic transport: the `Token token=`
 * authorization, the versioned Accept type, `From` on writes, the error envelope, and
 * limit/offset/more paging. Every PagerDuty client of the plugin builds on these.
 */
import type { PagerDutyConfig } from "../../config/types.ts";
import {
  parseCommonEnvelope,
  type Query,
  type RequestSpec,
  RestTransport,
  type RestTransportOptions,
  type RetryPolicy,
} from "../../http/transport.ts";
import { getLog } from "../../ops/logging.ts";

const logger = getLog("pagerduty");

export const DEFAULT_RATE_LIMIT_PER_MINUTE = 960;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** PagerDuty REST API v2's media type; the API answers 406 without it. */
export const PAGERDUTY_ACCEPT = "application/vnd.pagerduty+json;version=2";
/** Largest page PagerDuty serves; fewer round trips than its default of 25. */
const PAGE_LIMIT = 100;

/** The configuration every PagerDuty client needs. */
export type PagerDutyClientConfig =
  & Pick<PagerDutyConfig, "apiKey" | "userEmail" | "apiEndpoint" | "caFile">
  & Partial<Pick<PagerDutyConfig, "rateLimitPerMinute" | "requestTimeout">>;

/** A transport that speaks PagerDuty's REST API with this configuration. */
export function pagerDutyTransport(
  config: PagerDutyClientConfig,
  options: Pick<RestTransportOptions, "burst" | "clock" | "httpClient" | "observe" | "onRateLimitWait"> & {
    retry?: Partial<RetryPolicy>;
  },
): RestTransport {
  return new RestTransport({
    service: "PagerDuty",
    endpoint: config.apiEndpoint,
    secret: config.apiKey,
    authorization: `Token token=${config.apiKey}`,
    // PagerDuty attributes writes to the user named in `From`.
    headers: (spec: RequestSpec): Record<string, string> =>
      spec.method === "GET"
        ? { Accept: PAGERDUTY_ACCEPT }
        : { Accept: PAGERDUTY_ACCEPT, From: config.userEmail },
    parseError: parseCommonEnvelope,
    ratePerMinute: config.rateLimitPerMinute || DEFAULT_RATE_LIMIT_PER_MINUTE,
    burst: options.burst,
    requestTimeoutMs: config.requestTimeout || DEFAULT_REQUEST_TIMEOUT_MS,
    retry: options.retry,
    clock: options.clock,
    httpClient: options.httpClient,
    observe: options.observe,
    onRateLimitWait: options.onRateLimitWait,
  });
}

/**
 * The pages of a list endpoint (limit/offset/more) until exhausted, the caller stops,
 * or `maxPages` (a guard against an endpoint that always answers `more: true`).
 */
export async function* pages<T>(
  transport: RestTransport,
  request: { path: string; listKey: string; query: Query; signal?: AbortSignal; maxPages: number },
): AsyncGenerator<T[]> {
  let offset = 0;
  for (let page = 0; page < request.maxPages; page++) {
    const response = await transport.request<Record<string, unknown>>({
      method: "GET",
      path: request.path,
      query: [...request.query, ["limit", String(PAGE_LIMIT)], ["offset", String(offset)]],
      signal: request.signal,
    });
    const items = Array.isArray(response?.[request.listKey]) ? response[request.listKey] as T[] : [];
    yield items;
    if (response?.more !== true || items.length === 0) return;
    offset += items.length;
  }
  logger.warn("Stopped paging through a PagerDuty list", { path: request.path, pages: request.maxPages });
}
