/** The validated configuration the rest of the program uses (see src/config/load.ts). */
import type { ReviewConfig } from "./review.ts";
export type { ReviewConfig };

/** How the plugin reaches the Auth Service: try both ways (auto), or only one. */
export type DialMode = "auto" | "direct" | "tls-routing";

export interface TeleportConfig {
  /** host:port of the Auth Service, or of a Proxy Service with TLS routing. */
  addr: string;
  identity?: string;
  refreshIdentity: boolean;
  /** Milliseconds. */
  refreshIdentityInterval: number;
  clientKey?: string;
  clientCrt?: string;
  rootCas?: string;
  /** Cluster name for TLS routing (ALPN); when unset it is read from the CA certificate. */
  clusterName?: string;
  /** `dial_mode`; undefined means "auto". */
  dialMode?: DialMode;
}

export interface PagerDutyConfig {
  /** The REST API key itself (already read from a file when configured as a path). */
  apiKey: string;
  userEmail: string;
  apiEndpoint: string;
  /** PEM CA bundle file trusted in addition to the system roots (private endpoints). */
  caFile?: string;
  /** Client-side rate limit, requests per minute. */
  rateLimitPerMinute: number;
  /** Requests processed at once. */
  maxConcurrentRequests: number;
  /** Per-request timeout, milliseconds. */
  requestTimeout: number;
  requestAnnotations: { notifyService: string; services: string };
  /** Auto-approval of on-call requesters: on, off, or dry-run (log and note, submit nothing). */
  autoApproval: AutoApprovalMode;
}

export type AutoApprovalMode = "on" | "off" | "dry-run";

export type LogSeverity = "trace" | "debug" | "info" | "warn" | "error";

export interface LogConfig {
  /** "stderr", "stdout" or a file path (appended). */
  output: string;
  severity: LogSeverity;
  format: "text" | "json";
}

export interface DiagConfig {
  /** host:port of the diagnostics endpoints (/livez, /readyz, /metrics); "" = off. */
  addr: string;
}

export interface Config {
  teleport: TeleportConfig;
  pagerduty: PagerDutyConfig;
  log: LogConfig;
  diag: DiagConfig;
  /** Reviews from PagerDuty ([review]); absent or disabled = nothing listens. */
  review?: ReviewConfig;
  /** Path the configuration was read from ("-" for stdin). */
  source: string;
}
