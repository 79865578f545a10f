/**
 * Validation of the (key-normalised) TOML tree into the `Config` the program
 * uses. Messages reuse upstream wording where operators may search for it.
 */
import { z } from "zod";
import type { AutoApprovalMode, Config, LogConfig, LogSeverity, TeleportConfig } from "./types.ts";
import { durationToMs } from "./duration.ts";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import type { RawTable } from "./keys.ts";
import { reviewSchema, toReviewConfig } from "./review.ts";

export const DEFAULT_TELEPORT_ADDR = "localhost:3025";
export const DEFAULT_REFRESH_IDENTITY_INTERVAL_MS = 60_000;
export const DEFAULT_PAGERDUTY_API_ENDPOINT = "https://api.pagerduty.com";
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 960;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Passes in flight at once: enough to keep the backend's rate limit busy, few enough to stay small. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 64;
export const DEFAULT_NOTIFY_SERVICE_ANNOTATION = "pagerduty_notify_service";
export const DEFAULT_SERVICES_ANNOTATION = "pagerduty_services";
export const AUTO_APPROVAL_MODES: readonly AutoApprovalMode[] = ["on", "off", "dry-run"];
export const DIAL_MODES = ["auto", "direct", "tls-routing"] as const;

/** Short description of a rejected TOML value for error messages. */
export function describeValue(v: unknown): string {
  if (v instanceof Date) return "a date";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "object" && v !== null) return "a table";
  return `${typeof v} ${String(v)}`;
}

/** A zod error callback: "must be <expected>, got <value>". */
export const gotValue = (expected: string) => (iss: { input?: unknown }) =>
  `must be ${expected}, got ${describeValue(iss.input)}`;

/** Optional string where "" means unset, as with Go's zero value. */
export const optionalString = z.string({ error: gotValue("a string") }).optional()
  .transform((s) => s === "" ? undefined : s);

/** Required string; the message is upstream's. The value is never echoed (it may be a secret). */
const requiredString = (keyPath: string) =>
  z.string({ error: "must be a string" }).optional().transform((s, ctx) => {
    const value = s?.trim();
    if (value) return value;
    ctx.addIssue({ code: "custom", message: `missing required value ${keyPath}` });
    return z.NEVER;
  });

/** Go duration (string or integer nanoseconds) → milliseconds; zero means "use the default". */
export const duration = (defaultMs: number) =>
  z.union([z.string(), z.int(), z.bigint()], { error: gotValue('a duration such as "30s" or "1m"') })
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return defaultMs;
      try {
        const ms = durationToMs(v);
        if (ms >= 0) return ms === 0 ? defaultMs : ms;
        ctx.addIssue({ code: "custom", message: `must not be negative, got ${describeValue(v)}` });
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
      }
      return z.NEVER;
    });

/** "" also falls back to the default, like upstream's `if x == ""` defaulting. */
export const stringWithDefault = (def: string) => optionalString.transform((s) => s ?? def);

/** `max_concurrent_requests` of every backend section: passes in flight at once. */
export const maxConcurrentRequests = z.union([z.int(), z.bigint()], { error: gotValue("a whole number") })
  .transform(Number)
  .refine((n) => n > 0 && n <= 1024, {
    error: (iss) => `must be between 1 and 1024, got ${describeValue(iss.input)}`,
  })
  .default(DEFAULT_MAX_CONCURRENT_REQUESTS);

// A bare address: no display name ("Bot <bot@x>"), no spaces, exactly one "@".
const BARE_EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+$/;

export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

export const teleportSchema = z.object({
  addr: optionalString.refine((s) => s === undefined || !s.includes("://"), {
    error: (iss) => `must be host:port without a URL scheme, got ${describeValue(iss.input)}`,
  }),
  auth_server: optionalString,
  identity: optionalString,
  refresh_identity: z.boolean({ error: gotValue("true or false") }).default(false),
  refresh_identity_interval: duration(DEFAULT_REFRESH_IDENTITY_INTERVAL_MS),
  client_key: optionalString,
  client_crt: optionalString,
  root_cas: optionalString,
  cluster_name: optionalString,
  dial_mode: z.enum(DIAL_MODES, {
    error: (iss) => `must be one of "auto", "direct", "tls-routing", got ${describeValue(iss.input)}`,
  }).default("auto"),
}, { error: gotValue("a table") });

/** `auto_approval`: "on" (default, as upstream), "off" or "dry-run". */
export const autoApproval = z.string({ error: gotValue('"on", "off" or "dry-run"') }).default("on").transform(
  (s, ctx) => {
    const mode = AUTO_APPROVAL_MODES.find((m) => m === s.toLowerCase());
    if (mode) return mode;
    ctx.addIssue({ code: "custom", message: `must be "on", "off" or "dry-run", got ${describeValue(s)}` });
    return z.NEVER;
  },
);

const pagerdutySchema = z.object({
  api_key: requiredString("pagerduty.api_key"),
  user_email: requiredString("pagerduty.user_email").refine((s) => BARE_EMAIL.test(s), {
    error: (iss) => `must be an email address, got ${describeValue(iss.input)}`,
  }),
  api_endpoint: stringWithDefault(DEFAULT_PAGERDUTY_API_ENDPOINT)
    .refine(isHttpUrl, { error: (iss) => `must be an http(s) URL, got ${describeValue(iss.input)}` })
    // Clients append paths such as "/incidents"; a trailing slash would double it.
    .transform((s) => s.replace(/\/+$/, "")),
  ca_file: optionalString,
  rate_limit_per_minute: z.union([z.int(), z.bigint()], { error: gotValue("a whole number") })
    .transform(Number)
    .refine((n) => n > 0, { error: (iss) => `must be a positive number, got ${describeValue(iss.input)}` })
    .default(DEFAULT_RATE_LIMIT_PER_MINUTE),
  request_timeout: duration(DEFAULT_REQUEST_TIMEOUT_MS),
  max_concurrent_requests: maxConcurrentRequests,
  request_annotations: z.object({
    notify_service: stringWithDefault(DEFAULT_NOTIFY_SERVICE_ANNOTATION),
    services: stringWithDefault(DEFAULT_SERVICES_ANNOTATION),
  }, { error: gotValue("a table") }).prefault({}),
  auto_approval: autoApproval,
}, { error: gotValue("a table") });

const SEVERITIES: Record<string, LogSeverity> = {
  info: "info",
  err: "error",
  error: "error",
  debug: "debug",
  warn: "warn",
  warning: "warn",
  trace: "trace",
};

/** Upstream's output aliases; anything else is a file path. */
function normalizeOutput(output: string | undefined): string {
  if (output === undefined) return "stderr";
  if (["stderr", "error", "2"].includes(output)) return "stderr";
  if (["", "stdout", "out", "1"].includes(output)) return "stdout";
  return output;
}

export const logSchema = z.object({
  // Not optionalString: an explicit "" means stdout upstream.
  output: z.string({ error: gotValue("a string") }).optional().transform(normalizeOutput),
  severity: z.string({ error: gotValue("a string") }).default("info").transform((s, ctx) => {
    const sev = SEVERITIES[s.toLowerCase()];
    if (sev) return sev;
    ctx.addIssue({ code: "custom", message: `unsupported logger severity: '${s}'` });
    return z.NEVER;
  }),
  format: z.string({ error: gotValue("a string") }).default("text").transform((s, ctx) => {
    const f = s.toLowerCase();
    if (f === "text" || f === "json") return f;
    ctx.addIssue({ code: "custom", message: `unsupported log format: '${s}' (use "text" or "json")` });
    return z.NEVER;
  }),
}, { error: gotValue("a table") }) satisfies z.ZodType<LogConfig, unknown>;

/** host:port, with an IPv6 host in brackets; the port is required. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:\[\]/]+):\d{1,5}$/;

export const diagSchema = z.object({
  addr: z.string({ error: gotValue("a string") }).default("").refine((s) => s === "" || HOST_PORT.test(s), {
    message: 'must be host:port, e.g. "127.0.0.1:3001"',
  }),
}, { error: gotValue("a table") });

const fileSchema = z.object({
  teleport: teleportSchema.prefault({}),
  pagerduty: pagerdutySchema.prefault({}),
  log: logSchema.prefault({}),
  diag: diagSchema.prefault({}),
  review: reviewSchema.prefault({}),
});

export type ParsedTeleport = z.output<typeof teleportSchema>;

export interface Validated {
  config: Config;
  warnings: string[];
}

/** Validates a key-normalised TOML tree; throws ConfigError listing every problem found. */
export function validateConfig(table: RawTable, source: string): Validated {
  const parsed = fileSchema.safeParse(table);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((i) => ({ keyPath: issuePath(i.path), detail: i.message })),
    );
  }
  const { teleport, warnings } = resolveTeleport(parsed.data.teleport);
  const problems = checkCredentials(teleport);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const pd = parsed.data.pagerduty;
  const config: Config = {
    teleport,
    pagerduty: {
      apiKey: pd.api_key,
      userEmail: pd.user_email,
      apiEndpoint: pd.api_endpoint,
      caFile: pd.ca_file,
      rateLimitPerMinute: pd.rate_limit_per_minute,
      requestTimeout: pd.request_timeout,
      maxConcurrentRequests: pd.max_concurrent_requests,
      requestAnnotations: {
        notifyService: pd.request_annotations.notify_service,
        services: pd.request_annotations.services,
      },
      autoApproval: pd.auto_approval,
    },
    log: parsed.data.log,
    diag: parsed.data.diag,
    review: toReviewConfig(parsed.data.review),
    source,
  };
  return { config, warnings };
}

/** A zod issue path as a dotted TOML key path. */
export function issuePath(path: readonly PropertyKey[]): string | undefined {
  return path.length === 0 ? undefined : path.map(String).join(".");
}

/** Applies the deprecated `auth_server` alias and the address default. */
export function resolveTeleport(t: ParsedTeleport): { teleport: TeleportConfig; warnings: string[] } {
  const warnings: string[] = [];
  if (t.auth_server !== undefined) {
    warnings.push(
      t.addr === undefined
        ? "Configuration setting `auth_server` is deprecated, consider to change it to `addr`"
        : "teleport.auth_server is ignored because teleport.addr is set; remove `auth_server`",
    );
  }
  const teleport: TeleportConfig = {
    addr: t.addr ?? t.auth_server ?? DEFAULT_TELEPORT_ADDR,
    identity: t.identity,
    refreshIdentity: t.refresh_identity,
    refreshIdentityInterval: t.refresh_identity_interval,
    clientKey: t.client_key,
    clientCrt: t.client_crt,
    rootCas: t.root_cas,
    clusterName: t.cluster_name,
    dialMode: t.dial_mode,
  };
  return { teleport, warnings };
}

const TLS_TRIO = [["client_crt", "clientCrt"], ["client_key", "clientKey"], ["root_cas", "rootCas"]] as const;

/** Upstream's CheckTLSConfig rules, plus failing early when no credentials are set at all. */
export function checkCredentials(t: TeleportConfig): ConfigProblem[] {
  const list = (keys: string[]) => keys.map((k) => `\`${k}\``).join(", ");
  const provided = TLS_TRIO.filter(([, field]) => t[field] !== undefined).map(([key]) => key);
  const missing = TLS_TRIO.filter(([, field]) => t[field] === undefined).map(([key]) => key);
  if (provided.length > 0 && missing.length > 0) {
    return [{
      keyPath: "teleport",
      detail: `configuration setting(s) ${list(provided)} are provided but setting(s) ${
        list(missing)
      } are missing`,
    }];
  }
  if (t.identity !== undefined && provided.length > 0) {
    return [{
      keyPath: "teleport.identity",
      detail:
        "configuration setting `identity` is mutually exclusive with all the `client_crt`, `client_key` and `root_cas` settings",
    }];
  }
  if (t.refreshIdentity && t.identity === undefined) {
    return [{
      keyPath: "teleport.refresh_identity",
      detail: "`refresh_identity` requires that `identity` be set",
    }];
  }
  if (t.identity === undefined && provided.length === 0) {
    return [{
      keyPath: "teleport",
      detail:
        "no credentials configured: set `identity` or `client_key`, `client_crt` and `root_cas` in [teleport]",
    }];
  }
  return [];
}
