/**
 * The backend API's health as seen from the plugin's own calls: the REST transport's
 * observer feeds it, /readyz reads it. No extra calls are made for the probe.
 */
import type { ComponentStatus } from "./readiness.ts";
import type { UpstreamStatus } from "../metrics/registry.ts";

export class UpstreamHealth {
  #last?: { operation: string; status: UpstreamStatus; at: Date };
  #lastSuccess?: Date;
  #consecutiveFailures = 0;

  constructor(readonly upstream: string, readonly clock: () => Date = () => new Date()) {}

  /** Observer for the REST transport (same signature as the metrics observer). */
  readonly observe = (operation: string, status: UpstreamStatus, _seconds: number): void => {
    const at = this.clock();
    this.#last = { operation, status, at };
    if (isFailure(status)) {
      this.#consecutiveFailures++;
    } else {
      this.#consecutiveFailures = 0;
      this.#lastSuccess = at;
    }
  };

  /** The /readyz component: degraded while calls fail (requests wait for retries). */
  status(): ComponentStatus {
    const last = this.#last;
    const detail = {
      last_call: last && { operation: last.operation, code: String(last.status), at: last.at.toISOString() },
      last_success: this.#lastSuccess?.toISOString(),
      consecutive_failures: this.#consecutiveFailures,
    };
    if (!last) return { status: "healthy", reason: `no ${this.upstream} API call yet`, ...detail };
    if (!isFailure(last.status)) return { status: "healthy", ...detail };
    return { status: "degraded", reason: describe(this.upstream, last.status), ...detail };
  }
}

/** 4xx answers other than auth and rate limiting are about one request, not the API. */
function isFailure(status: UpstreamStatus): boolean {
  return status === "error" || status === 401 || status === 403 || status === 429 || status >= 500;
}

function describe(upstream: string, status: UpstreamStatus): string {
  if (status === "error") return `the last ${upstream} API call got no response`;
  if (status === 401 || status === 403) return `the ${upstream} API rejected the API key (HTTP ${status})`;
  if (status === 429) return `the ${upstream} API is rate limiting the plugin (HTTP 429)`;
  return `the ${upstream} API answered HTTP ${status}`;
}
