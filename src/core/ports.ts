/**
 * The two ports of the backend-neutral core: the Teleport side (requests, plugin
 * data, reviews) and the incident backend (PagerDuty today, Opsgenie later).
 */
import type { AccessRequest, PluginDataMap, WatchEvent } from "./types.ts";

export interface AccessRequestSource {
  /** Current plugin data entry for this plugin, or null when none exists. */
  getPluginData(requestId: string, plugin: string): Promise<PluginDataMap | null>;
  /**
   * Compare-and-swap write. `set` values of "" delete keys; every `expect` key must
   * match the stored value ("" = absent). Throws CompareFailedError on mismatch.
   */
  updatePluginData(
    requestId: string,
    plugin: string,
    set: PluginDataMap,
    expect: PluginDataMap,
  ): Promise<void>;
  submitReview(
    requestId: string,
    review: { proposedState: "APPROVED" | "DENIED"; reason: string },
  ): Promise<void>;
  listPendingRequests(): Promise<AccessRequest[]>;
  /** Every plugin data entry of `plugin` on access requests (for the resync sweep). */
  listPluginData(plugin: string): Promise<Array<{ requestId: string; data: PluginDataMap }>>;
  /** Fetch one request by id, or null when it no longer exists. */
  getRequest(requestId: string): Promise<AccessRequest | null>;
}

export interface WatchSource {
  /** Events (INIT first after every (re)connect) until the signal aborts. */
  watch(kinds: string[], signal: AbortSignal): AsyncIterable<WatchEvent>;
}
