/**
 * The Teleport side of the core: access requests, plugin data and reviews. The
 * gRPC client implements it; the core tests implement it in memory.
 */
import type { AccessRequest, PluginDataMap, WatchEvent } from "./types.ts";

/** A review the plugin submits (auto-approval). */
export interface ReviewSubmission {
  proposedState: "APPROVED" | "DENIED";
  reason: string;
}

/** Teleport's answer to a review: applied, or this reviewer had already reviewed (a fleet peer did). */
export type ReviewResult = "submitted" | "already-reviewed";

export interface AccessRequestSource {
  /** Current plugin data entry for this plugin, or null when none exists. */
  getPluginData(requestId: string, plugin: string, signal?: AbortSignal): Promise<PluginDataMap | null>;
  /**
   * Compare-and-swap write. `set` values of "" delete keys; every `expect` key must
   * match the stored value ("" = absent). Throws a ConflictError on mismatch.
   */
  updatePluginData(
    requestId: string,
    plugin: string,
    set: PluginDataMap,
    expect: PluginDataMap,
    signal?: AbortSignal,
  ): Promise<void>;
  submitReview(requestId: string, review: ReviewSubmission, signal?: AbortSignal): Promise<ReviewResult>;
  /** Pending requests, a page at a time. */
  pendingRequests(signal?: AbortSignal): AsyncIterable<AccessRequest[]>;
  /**
   * Every plugin data entry of `plugin` on access requests (the startup sweep for
   * requests deleted while no instance ran). Teleport's GetPluginData has no paging.
   */
  listPluginData(
    plugin: string,
    signal?: AbortSignal,
  ): Promise<Array<{ requestId: string; data: PluginDataMap }>>;
  /** Fetch one request by id, or null when it no longer exists. */
  getRequest(requestId: string, signal?: AbortSignal): Promise<AccessRequest | null>;
}

export interface WatchSource {
  /** Events (INIT first after every (re)connect) until the signal aborts. */
  watch(kinds: string[], signal: AbortSignal): AsyncIterable<WatchEvent>;
}
