/**
 * The plugin's Prometheus metrics. One registry per process; the core reports through
 * `CoreTelemetry`, the REST transport through `observeUpstream`, and gauges are read
 * from providers at scrape time (never pushed from the hot path).
 *
 * Naming: every metric starts with `teleport_plugin_` and carries a `plugin` label
 * ("pagerduty", "opsgenie"), so one dashboard serves every access plugin (see
 * the metric set proposed for Teleport plugins, after tbot's conventions).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { CoreCounter, CoreTelemetry } from "../../core/telemetry.ts";
import type { ReloadResult } from "../reload.ts";

export const METRIC_PREFIX = "teleport_plugin_";

/** What the controller reports about its queue (read at scrape time). */
export interface QueueStats {
  queueDepth: number;
  inFlight: number;
  oldestUnprocessedAgeSeconds: number;
}

/** Where scrape-time values come from; each may be set (or replaced) later, e.g. once the watch starts. */
export interface MetricSources {
  /** The controller's queue gauges. */
  stats?: () => QueueStats;
  /** Whether the Teleport watch is live. */
  watching?: () => boolean;
  /** When the Teleport client certificate expires. */
  identityNotAfter?: () => Date | undefined;
}

export interface BuildInfo {
  /** Backend name, the `plugin` label: "pagerduty", "opsgenie". */
  plugin: string;
  version: string;
  gitRef: string;
}

/** How a backend call ended: an HTTP status, or "error" when no response arrived. */
export type UpstreamStatus = number | "error";

/** Which side made the plugin wait: its own token bucket, or the server (429 / Retry-After). */
export type RateLimitSource = "client" | "server";

/** Seconds; spans a fast local double to a slow remote API with retries. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A pass includes every backend call of one request: up to the retry budget (minutes). */
const PASS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** The metric behind each core counter, and the labels the core passes with it. */
const CORE_COUNTERS: Record<CoreCounter, { name: string; help: string; labels: string[] }> = {
  event: {
    name: "events_total",
    help: "Teleport watch events received, by resource kind and operation (put, delete, init).",
    labels: ["kind", "operation"],
  },
  pass: {
    name: "passes_total",
    help:
      "Processing passes over an access request, by outcome (done, leased, transient, permanent, cancelled).",
    labels: ["outcome"],
  },
  notification_created: {
    name: "notifications_created_total",
    help: "Incidents or alerts opened in the backend.",
    labels: [],
  },
  note: {
    name: "notes_total",
    help: "Notes posted on incidents or alerts, by kind (review, resolution, would-approve).",
    labels: ["kind"],
  },
  resolution: {
    name: "resolutions_total",
    help: "Requests whose notifications were resolved, by resolution.",
    labels: ["resolution"],
  },
  auto_approval: {
    name: "auto_approvals_total",
    help: "Auto-approval decisions, by result (approved, already_reviewed, not_on_call, dry_run, refused).",
    labels: ["result"],
  },
  cas_conflict: {
    name: "plugin_data_cas_conflicts_total",
    help: "Plugin-data compare-and-swap writes that lost to another writer.",
    labels: [],
  },
  lease_takeover: {
    name: "lease_takeovers_total",
    help: "Requests taken over after the holding instance's lease expired.",
    labels: [],
  },
  watch_reconnect: {
    name: "watch_reconnects_total",
    help: "Times the Teleport watch was lost and reconnected.",
    labels: [],
  },
  resync: {
    name: "resyncs_total",
    help: "Resyncs of pending requests (at start and after each reconnect), by outcome (ok, failed).",
    labels: ["outcome"],
  },
};

/** The registry: implements CoreTelemetry, receives upstream observations, renders /metrics. */
export class PluginMetrics implements CoreTelemetry {
  readonly registry = new Registry();
  readonly #sources: MetricSources;
  readonly #core = new Map<CoreCounter, Counter>();
  readonly #passSeconds: Histogram;
  readonly #upstreamRequests: Counter;
  readonly #upstreamSeconds: Histogram;
  readonly #rateLimitWaits: Counter;
  readonly #rateLimitWaitSeconds: Counter;
  readonly #reloads: Counter;
  readonly #lastReloadOk: Gauge;
  readonly #upstream: string;

  constructor(build: BuildInfo, sources: MetricSources = {}) {
    this.#sources = { ...sources };
    this.#upstream = build.plugin;
    const r = this.registry;
    r.setDefaultLabels({ plugin: build.plugin });
    const name = (suffix: string) => METRIC_PREFIX + suffix;

    new Gauge({
      name: name("info"),
      help: "Build information; always 1.",
      labelNames: ["version", "git_ref", "deno"],
      registers: [r],
    }).set({ version: build.version, git_ref: build.gitRef, deno: Deno.version.deno }, 1);

    for (
      const [counter, spec] of Object.entries(CORE_COUNTERS) as [CoreCounter, typeof CORE_COUNTERS.event][]
    ) {
      this.#core.set(
        counter,
        new Counter({ name: name(spec.name), help: spec.help, labelNames: spec.labels, registers: [r] }),
      );
    }
    this.#passSeconds = new Histogram({
      name: name("pass_duration_seconds"),
      help: "Duration of processing passes, by outcome.",
      labelNames: ["outcome"],
      buckets: PASS_BUCKETS,
      registers: [r],
    });
    this.#upstreamRequests = new Counter({
      name: name("upstream_requests_total"),
      help:
        'Backend API calls, by upstream, operation and HTTP status code ("error" when no response arrived).',
      labelNames: ["upstream", "operation", "code"],
      registers: [r],
    });
    this.#upstreamSeconds = new Histogram({
      name: name("upstream_request_duration_seconds"),
      help:
        "Backend API call latency (one HTTP exchange, retries are separate calls), by upstream and operation.",
      labelNames: ["upstream", "operation"],
      buckets: UPSTREAM_BUCKETS,
      registers: [r],
    });
    this.#rateLimitWaits = new Counter({
      name: name("upstream_rate_limit_waits_total"),
      help:
        "Waits imposed by a rate limit, by upstream and source (client: the plugin's own limiter; server: 429).",
      labelNames: ["upstream", "source"],
      registers: [r],
    });
    this.#rateLimitWaitSeconds = new Counter({
      name: name("upstream_rate_limit_wait_seconds_total"),
      help: "Total time spent waiting for rate limits, by upstream and source.",
      labelNames: ["upstream", "source"],
      registers: [r],
    });
    this.#reloads = new Counter({
      name: name("config_reloads_total"),
      help: "Configuration reloads (SIGHUP), by result (ok, unchanged, invalid, failed).",
      labelNames: ["result"],
      registers: [r],
    });
    this.#lastReloadOk = new Gauge({
      name: name("config_last_reload_successful"),
      help: "1 if the last configuration reload succeeded (or none happened yet), 0 if it was rejected.",
      registers: [r],
    });
    this.#lastReloadOk.set(1);

    // Scrape-time gauges: the providers are O(1) reads of state the controller keeps anyway.
    const source = () => this.#sources;
    new Gauge({
      name: name("watcher_up"),
      help: "1 while the Teleport watch is live, else 0.",
      registers: [r],
      collect() {
        this.set(source().watching?.() ? 1 : 0);
      },
    });
    const queueGauge = (suffix: string, help: string, pick: (s: QueueStats) => number) =>
      new Gauge({
        name: name(suffix),
        help,
        registers: [r],
        collect() {
          const stats = source().stats?.();
          if (stats) this.set(pick(stats));
        },
      });
    queueGauge("queue_depth", "Access requests waiting to be processed.", (s) => s.queueDepth);
    queueGauge("in_flight", "Access requests being processed right now.", (s) => s.inFlight);
    queueGauge(
      "oldest_unprocessed_age_seconds",
      "Age of the oldest access request not yet processed (0 when none is waiting).",
      (s) => s.oldestUnprocessedAgeSeconds,
    );
    new Gauge({
      name: name("identity_expiry_timestamp_seconds"),
      help: "When the Teleport identity's client certificate expires, as a Unix timestamp.",
      registers: [r],
      collect() {
        const notAfter = source().identityNotAfter?.();
        if (notAfter) this.set(notAfter.getTime() / 1000);
      },
    });
  }

  /** Replaces or adds scrape-time providers (the controller exists only after start-up checks). */
  provide(sources: MetricSources): void {
    Object.assign(this.#sources, sources);
  }

  count(counter: CoreCounter, labels: Record<string, string> = {}): void {
    const metric = this.#core.get(counter);
    // An unknown counter is a programming error in the caller; dropping it beats crashing the hot path.
    if (!metric) return;
    const wanted = CORE_COUNTERS[counter].labels;
    metric.inc(Object.fromEntries(wanted.map((label) => [label, labels[label] ?? ""])));
  }

  passSeconds(seconds: number, outcome: string): void {
    this.#passSeconds.observe({ outcome }, seconds);
  }

  /** The REST transport's observer: one call per HTTP exchange (`operation` such as "POST /incidents"). */
  readonly observeUpstream = (operation: string, status: UpstreamStatus, seconds: number): void => {
    const op = operationLabel(operation);
    this.#upstreamRequests.inc({ upstream: this.#upstream, operation: op, code: String(status) });
    this.#upstreamSeconds.observe({ upstream: this.#upstream, operation: op }, seconds);
  };

  /** A wait imposed by a rate limit, in seconds. */
  rateLimitWait(source: RateLimitSource, seconds: number): void {
    this.#rateLimitWaits.inc({ upstream: this.#upstream, source });
    this.#rateLimitWaitSeconds.inc({ upstream: this.#upstream, source }, seconds);
  }

  /** The outcome of a configuration reload. */
  reloaded(result: ReloadResult): void {
    this.#reloads.inc({ result });
    this.#lastReloadOk.set(result === "ok" || result === "unchanged" ? 1 : 0);
  }

  /** The exposition (Prometheus text format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of `render()`'s output. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * `POST /incidents/Q1X2Y3Z/notes` → `POST /incidents/{id}/notes`: path segments that are
 * ids (any digit, or a long upper-case token) would make one series per incident.
 * A query string is dropped for the same reason.
 */
export function operationLabel(operation: string): string {
  const [method, path = ""] = operation.split(" ", 2);
  if (!path) return method;
  const segments = path.split("?")[0].split("/").map((segment) =>
    /\d/.test(segment) || /^[A-Z][A-Z0-9]{5,}$/.test(segment) ? "{id}" : segment
  );
  return `${method} ${segments.join("/")}`;
}
