/**
 * The `[review]` section: approving or denying access requests from PagerDuty.
 * Off by default; when enabled, the settings must describe at least one verified
 * trigger (a signed V3 webhook with approve/deny ids, or a custom action secret).
 */
import { z } from "zod";
import { ConfigError } from "./errors.ts";
// Type-only: keys.ts imports REVIEW_KEYS from here.
import type { RawTable } from "./keys.ts";

export const DEFAULT_USER_TRAIT = "pagerduty_user_id";
/** Custom action secrets are ours to choose: long enough not to be guessed. */
export const MIN_ACTION_SECRET_CHARS = 16;
const MAX_SECRET_FILE_BYTES = 4096;

export interface ReviewConfig {
  enabled: boolean;
  /** host:port the webhook server listens on. */
  listenAddr: string;
  /** Public https URL PagerDuty calls (used by `review-setup`). */
  publicUrl?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Signing secrets of the V3 webhook subscriptions (one per subscription; any may sign). */
  webhookSecrets: string[];
  /** Incident Workflow or workflow trigger ids that approve / deny. */
  approveIds: string[];
  denyIds: string[];
  /** Secrets carried by the Custom Incident Actions' header, one per action. */
  actionSecrets: { approve?: string; deny?: string };
  /** PagerDuty service ids the V3 subscription covers (`review-setup`). */
  services: string[];
  /** Teleport user trait holding the PagerDuty user id. */
  userTrait: string;
  /** Also accept a Teleport user named like the PagerDuty user's email. */
  matchEmail: boolean;
}

/** The TOML keys of [review], canonical spelling. */
export const REVIEW_KEYS = {
  enabled: null,
  listen_addr: null,
  public_url: null,
  tls_cert_file: null,
  tls_key_file: null,
  webhook_secret: null,
  webhook_secret_file: null,
  approve_ids: null,
  deny_ids: null,
  approve_action_secret: null,
  approve_action_secret_file: null,
  deny_action_secret: null,
  deny_action_secret_file: null,
  services: null,
  user_trait: null,
  match_email: null,
} as const;

const SECRET_FILE_KEYS = [
  ["webhook_secret", "webhook_secret_file"],
  ["approve_action_secret", "approve_action_secret_file"],
  ["deny_action_secret", "deny_action_secret_file"],
] as const;

/**
 * Replaces each `*_file` key of [review] with the secret read from that file (trimmed),
 * so validation sees one value. Both forms at once is an error.
 */
export async function resolveReviewSecretFiles(table: RawTable, source: string): Promise<void> {
  const review = table.review as RawTable | undefined;
  if (typeof review !== "object" || review === null || Array.isArray(review)) return;
  for (const [valueKey, fileKey] of SECRET_FILE_KEYS) {
    const path = review[fileKey];
    if (path === undefined || path === "") continue;
    const keyPath = `review.${fileKey}`;
    if (typeof path !== "string") {
      throw new ConfigError(source, [{ keyPath, detail: "must be a file path (a string)" }]);
    }
    if (review[valueKey] !== undefined && review[valueKey] !== "") {
      throw new ConfigError(source, [{
        keyPath,
        detail: `set either review.${valueKey} or review.${fileKey}, not both`,
      }]);
    }
    review[valueKey] = await readSecretFile(path, keyPath, source);
    delete review[fileKey];
  }
}

async function readSecretFile(path: string, keyPath: string, source: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : (error as Error).message;
    throw new ConfigError(source, [{ keyPath, detail: `cannot read ${path}: ${reason}` }], { cause: error });
  }
  if (bytes.length > MAX_SECRET_FILE_BYTES) {
    throw new ConfigError(source, [{
      keyPath,
      detail: `${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes; it must contain only the secret`,
    }]);
  }
  return new TextDecoder().decode(bytes).trim();
}

const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:\[\]/]+):\d{1,5}$/;

const text = (what: string) =>
  z.string({ error: (iss) => `must be ${what}, got ${typeof iss.input}` }).optional()
    .transform((s) => s?.trim() || undefined);

const idList = z.array(z.string().trim().min(1, "ids must not be empty"), {
  error: 'must be an array of strings, e.g. ["PABC123"]',
}).default([]);

/** Schema of the [review] table; cross-field rules apply only when enabled. */
export const reviewSchema = z.object({
  enabled: z.boolean({ error: "must be true or false" }).default(false),
  listen_addr: text("host:port"),
  public_url: text("an https URL"),
  tls_cert_file: text("a file path"),
  tls_key_file: text("a file path"),
  webhook_secret: text("a string"),
  approve_ids: idList,
  deny_ids: idList,
  approve_action_secret: text("a string"),
  deny_action_secret: text("a string"),
  services: idList,
  user_trait: text("a trait name").transform((s) => s ?? DEFAULT_USER_TRAIT),
  match_email: z.boolean({ error: "must be true or false" }).default(false),
}, { error: "must be a table" }).superRefine((r, ctx) => {
  if (!r.enabled) return;
  const problem = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
  if (!r.listen_addr) {
    problem("listen_addr", 'missing required value review.listen_addr (e.g. "0.0.0.0:8443")');
  } else if (!HOST_PORT.test(r.listen_addr)) problem("listen_addr", 'must be host:port, e.g. "0.0.0.0:8443"');
  if (!!r.tls_cert_file !== !!r.tls_key_file) {
    problem(r.tls_cert_file ? "tls_key_file" : "tls_cert_file", "tls_cert_file and tls_key_file go together");
  }
  if (r.public_url !== undefined && !/^https?:\/\/[^\s/]+/.test(r.public_url)) {
    problem("public_url", "must be an http(s) URL");
  }
  const ids = r.approve_ids.length + r.deny_ids.length;
  if (r.webhook_secret && ids === 0) {
    problem("approve_ids", "set approve_ids and/or deny_ids (workflow or trigger ids) for the webhook");
  }
  if (!r.webhook_secret && ids > 0) {
    problem("webhook_secret", "approve_ids/deny_ids need the webhook subscription's secret");
  }
  const overlap = r.approve_ids.filter((id) => r.deny_ids.includes(id));
  if (overlap.length > 0) problem("deny_ids", `${overlap.join(", ")} is both an approve and a deny id`);
  for (const key of ["approve_action_secret", "deny_action_secret"] as const) {
    const secret = r[key];
    if (secret !== undefined && secret.length < MIN_ACTION_SECRET_CHARS) {
      problem(key, `must be at least ${MIN_ACTION_SECRET_CHARS} characters (e.g. \`openssl rand -hex 32\`)`);
    }
  }
  if (!r.webhook_secret && !r.approve_action_secret && !r.deny_action_secret) {
    problem(
      "enabled",
      "review is enabled but no trigger is configured: set webhook_secret with approve_ids/deny_ids, or approve_action_secret/deny_action_secret",
    );
  }
});

/** The validated section in the shape the program uses. */
export function toReviewConfig(r: z.output<typeof reviewSchema>): ReviewConfig {
  return {
    enabled: r.enabled,
    listenAddr: r.listen_addr ?? "",
    publicUrl: r.public_url?.replace(/\/+$/, ""),
    tlsCertFile: r.tls_cert_file,
    tlsKeyFile: r.tls_key_file,
    // Several subscriptions (one per service) have several secrets: whitespace-separated.
    webhookSecrets: r.webhook_secret?.split(/\s+/).filter((s) => s !== "") ?? [],
    approveIds: r.approve_ids,
    denyIds: r.deny_ids,
    actionSecrets: { approve: r.approve_action_secret, deny: r.deny_action_secret },
    services: r.services,
    userTrait: r.user_trait,
    matchEmail: r.match_email,
  };
}
