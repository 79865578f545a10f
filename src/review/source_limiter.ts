/**
 * Per-source flood control for the webhook listener: a token bucket per remote
 * address, refused (not queued) when empty. The table of sources is bounded; the
 * least recently seen source is dropped first.
 */
export interface SourceLimit {
  /** Sustained requests per minute per source. */
  perMinute: number;
  /** Requests a source may send at once. */
  burst: number;
  /** Sources remembered at most. */
  maxSources: number;
}

export const DEFAULT_SOURCE_LIMIT: SourceLimit = { perMinute: 120, burst: 30, maxSources: 10_000 };

/** Token buckets keyed by remote address; refuses instead of queueing. */
export class SourceRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #limit: SourceLimit;
  readonly #now: () => number;

  constructor(limit: Partial<SourceLimit> = {}, now: () => number = () => performance.now()) {
    this.#limit = { ...DEFAULT_SOURCE_LIMIT, ...limit };
    this.#now = now;
  }

  /** Takes a token for `source`; false when it has none left. */
  allow(source: string): boolean {
    const now = this.#now();
    const { perMinute, burst, maxSources } = this.#limit;
    const bucket = this.#buckets.get(source) ?? { tokens: burst, at: now };
    this.#buckets.delete(source);
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMinute / 60_000);
    bucket.at = now;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.#buckets.set(source, bucket);
    if (this.#buckets.size > maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    return allowed;
  }

  /** Seconds until `source` has a token again (for Retry-After). */
  retryAfterSeconds(source: string): number {
    const bucket = this.#buckets.get(source);
    if (!bucket) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) * 60 / this.#limit.perMinute));
  }
}
