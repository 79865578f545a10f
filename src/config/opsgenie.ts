/**
 * The configuration of `teleport-opsgenie`: `[teleport]`, `[log]` and `[diag]` exactly
 * as for PagerDuty, and an `[opsgenie]` table (spec §1.2, made real). Same pipeline as
 * ./load.ts: TOML parse → key normalisation → api_key file → schema validation, with
 * one-line errors naming the file, the line and the key.
 */
import { z } from "zod";
import { ConfigError, sourceName } from "./errors.ts";
import { isTable, type KeyTree, KNOWN_KEYS, normalizeKeys } from "./keys.ts";
import {
  locatedConfigError,
  locatedKeyWarnings,
  parseToml,
  readKeyFile,
  readSource,
  warnIfExposed,
} from "./load.ts";
import {
  autoApproval,
  checkCredentials,
  describeValue,
  diagSchema,
  duration,
  gotValue,
  isHttpUrl,
  issuePath,
  logSchema,
  maxConcurrentRequests,
  optionalString,
  resolveTeleport,
  stringWithDefault,
  teleportSchema,
} from "./schema.ts";
import type { AutoApprovalMode, DiagConfig, LogConfig, TeleportConfig } from "./types.ts";

export const DEFAULT_OPSGENIE_CONFIG_PATH = "/etc/teleport-opsgenie.toml";
export const DEFAULT_OPSGENIE_API_ENDPOINT = "https://api.opsgenie.com";
export const DEFAULT_JSM_API_ENDPOINT = "https://api.atlassian.com";
/** Client-side calls per minute per Opsgenie rate-limit domain (Opsgenie's own buckets are larger for most plans). */
export const DEFAULT_OPSGENIE_RATE_LIMIT_PER_MINUTE = 600;
export const DEFAULT_OPSGENIE_REQUEST_TIMEOUT_MS = 10_000;
export const PRIORITIES = ["P1", "P2", "P3", "P4", "P5"] as const;

export interface OpsgenieConfig {
  /** Which API: Opsgenie's, or its successor Jira Service Management Operations. */
  api: "opsgenie" | "jsm";
  /** Opsgenie: the API key itself (already read from a file when configured as a path). */
  apiKey?: string;
  /** JSM: the site's cloud id, the plugin user's e-mail and API token (read from a file if a path). */
  cloudId?: string;
  userEmail?: string;
  apiToken?: string;
  /** Host root: https://api.opsgenie.com, https://api.eu.opsgenie.com, https://api.atlassian.com, or a double. */
  apiEndpoint: string;
  caFile?: string;
  /** P1–P5; undefined leaves Opsgenie's default (P3). */
  priority?: string;
  defaultSchedules: string[];
  defaultTeams: string[];
  alertTags: string[];
  /** Milliseconds. */
  requestTimeout: number;
  /** Client-side limit per Opsgenie rate-limit domain. */
  rateLimitPerMinute: number;
  /** Requests processed at once. */
  maxConcurrentRequests: number;
  /** Auto-approval of on-call requesters: "on" (upstream's), "off", or "dry-run" (a note says what it would do). */
  autoApproval: AutoApprovalMode;
}

export interface OpsgenieProgramConfig {
  teleport: TeleportConfig;
  opsgenie: OpsgenieConfig;
  log: LogConfig;
  diag: DiagConfig;
  /** Path the configuration was read from ("-" for stdin). */
  source: string;
}

/** Known keys of a teleport-opsgenie file: PagerDuty's shared tables plus `[opsgenie]`. */
export const OPSGENIE_KNOWN_KEYS: KeyTree = {
  teleport: KNOWN_KEYS.teleport,
  opsgenie: {
    api: null,
    api_key: null,
    cloud_id: null,
    user_email: null,
    api_token: null,
    api_endpoint: null,
    ca_file: null,
    priority: null,
    default_schedules: null,
    default_teams: null,
    alert_tags: null,
    request_timeout: null,
    max_concurrent_requests: null,
    rate_limit_per_minute: null,
    auto_approval: null,
  },
  log: KNOWN_KEYS.log,
  diag: KNOWN_KEYS.diag,
};

const stringList = z.array(z.string({ error: gotValue("a string") }), {
  error: gotValue("an array of strings"),
})
  .default([])
  .transform((list) => list.map((s) => s.trim()).filter((s) => s !== ""));

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BARE_EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+$/;

const opsgenieSchema = z.object({
  api: z.string({ error: gotValue("a string") }).default("opsgenie").transform((s, ctx) => {
    const api = s.trim().toLowerCase();
    if (api === "opsgenie" || api === "jsm") return api;
    ctx.addIssue({ code: "custom", message: `must be "opsgenie" or "jsm", got ${describeValue(s)}` });
    return z.NEVER;
  }),
  api_key: optionalString,
  cloud_id: optionalString.refine((s) => s === undefined || UUID.test(s), {
    error: (iss) => `must be the site's cloud id (a UUID), got ${describeValue(iss.input)}`,
  }),
  user_email: optionalString.refine((s) => s === undefined || BARE_EMAIL.test(s), {
    error: (iss) => `must be an email address, got ${describeValue(iss.input)}`,
  }),
  api_token: optionalString,
  api_endpoint: optionalString
    .refine((s) => s === undefined || isHttpUrl(s), {
      error: (iss) => `must be an http(s) URL, got ${describeValue(iss.input)}`,
    })
    .refine((s) => s === undefined || !/\/v2\/?$/.test(s), {
      error: 'must be the host root such as "https://api.opsgenie.com", without "/v2"',
    })
    .transform((s) => s?.replace(/\/+$/, "")),
  ca_file: stringWithDefault("").transform((s) => s || undefined),
  priority: z.string({ error: gotValue("a string") }).optional().transform((s, ctx) => {
    if (s === undefined || s.trim() === "") return undefined;
    const p = s.trim().toUpperCase();
    if ((PRIORITIES as readonly string[]).includes(p)) return p;
    ctx.addIssue({
      code: "custom",
      message: `must be one of ${PRIORITIES.join(", ")}, got ${describeValue(s)}`,
    });
    return z.NEVER;
  }),
  default_schedules: stringList,
  default_teams: stringList,
  alert_tags: stringList,
  request_timeout: duration(DEFAULT_OPSGENIE_REQUEST_TIMEOUT_MS),
  max_concurrent_requests: maxConcurrentRequests,
  rate_limit_per_minute: z.union([z.int(), z.bigint()], { error: gotValue("a whole number") })
    .transform(Number)
    .refine((n) => n > 0, { error: (iss) => `must be a positive number, got ${describeValue(iss.input)}` })
    .default(DEFAULT_OPSGENIE_RATE_LIMIT_PER_MINUTE),
  auto_approval: autoApproval,
}, { error: gotValue("a table") }).superRefine((og, ctx) => {
  // Each API takes its own credentials; name the first one missing.
  const required = og.api === "jsm"
    ? (["cloud_id", "user_email", "api_token"] as const)
    : (["api_key"] as const);
  for (const key of required) {
    if (og[key] === undefined) {
      const what = og.api === "jsm" ? ' (required with api = "jsm")' : "";
      ctx.addIssue({ code: "custom", path: [key], message: `missing required value opsgenie.${key}${what}` });
    }
  }
  if (og.api === "jsm" && og.api_key !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["api_key"],
      message: 'is not used with api = "jsm" (use user_email and api_token)',
    });
  }
});

const fileSchema = z.object({
  teleport: teleportSchema.prefault({}),
  opsgenie: opsgenieSchema.prefault({}),
  log: logSchema.prefault({}),
  diag: diagSchema.prefault({}),
});

export interface LoadedOpsgenieConfig {
  config: OpsgenieProgramConfig;
  warnings: string[];
}

/** Loads and validates a teleport-opsgenie configuration ("-" reads standard input). */
export async function loadOpsgenieConfig(path: string): Promise<LoadedOpsgenieConfig> {
  const text = await readSource(path);
  const normalized = normalizeKeys(parseToml(text, path), OPSGENIE_KNOWN_KEYS);
  const { table } = normalized;
  const warnings = locatedKeyWarnings(text, path, normalized);
  const og = table.opsgenie;
  const inline: string[] = [];
  let config: OpsgenieProgramConfig;
  try {
    for (const key of ["api_key", "api_token"]) {
      if (!isTable(og) || typeof og[key] !== "string") continue;
      const value = og[key] as string;
      if (value.startsWith("/")) {
        og[key] = await readKeyFile(value, path, `opsgenie.${key}`);
        await warnIfExposed(value, `opsgenie.${key} file`, warnings);
      } else if (value.trim() !== "") inline.push(`opsgenie.${key}`);
    }
    config = validateOpsgenieConfig(table, path, warnings);
  } catch (err) {
    throw locatedConfigError(err, text, normalized);
  }
  if (inline.length > 0 && path !== "-") {
    await warnIfExposed(path, `configuration file containing ${inline.join(" and ")}`, warnings);
  }
  return { config, warnings };
}

/** Validates a key-normalised tree; throws a ConfigError (the loader adds the lines). */
export function validateOpsgenieConfig(
  table: Record<string, unknown>,
  source: string,
  warnings: string[],
): OpsgenieProgramConfig {
  const parsed = fileSchema.safeParse(table);
  if (!parsed.success) {
    throw new ConfigError(
      source,
      parsed.error.issues.map((i) => ({ keyPath: issuePath(i.path), detail: i.message })),
    );
  }
  const { teleport, warnings: teleportWarnings } = resolveTeleport(parsed.data.teleport);
  warnings.push(...teleportWarnings.map((w) => `${sourceName(source)}: ${w}`));
  const problems = checkCredentials(teleport);
  if (problems.length > 0) throw new ConfigError(source, problems);
  const og = parsed.data.opsgenie;
  return {
    teleport,
    opsgenie: {
      api: og.api,
      apiKey: og.api_key,
      cloudId: og.cloud_id,
      userEmail: og.user_email,
      apiToken: og.api_token,
      apiEndpoint: og.api_endpoint ??
        (og.api === "jsm" ? DEFAULT_JSM_API_ENDPOINT : DEFAULT_OPSGENIE_API_ENDPOINT),
      caFile: og.ca_file,
      priority: og.priority,
      defaultSchedules: og.default_schedules,
      defaultTeams: og.default_teams,
      alertTags: og.alert_tags,
      requestTimeout: og.request_timeout,
      maxConcurrentRequests: og.max_concurrent_requests,
      rateLimitPerMinute: og.rate_limit_per_minute,
      autoApproval: og.auto_approval,
    },
    log: parsed.data.log,
    diag: parsed.data.diag,
    source,
  };
}
