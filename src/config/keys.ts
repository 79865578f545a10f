/**
 * Key-name normalisation for the raw TOML tree, before schema validation.
 *
 * go-toml v1 matches a struct field by its tag (or Go field name when untagged)
 * as written, lower-cased or upper-cased, so `ADDR` works upstream; the untagged
 * RequestAnnotations table also answers to its Go spellings. We accept the same
 * spellings, rename them to the canonical snake_case keys, and report every key
 * nothing reads, because upstream's silent ignoring hid misconfigurations.
 */

import { REVIEW_KEYS } from "./review.ts";

/** A table: each canonical key maps to null (a leaf) or a nested table. */
export type KeyTree = { readonly [key: string]: KeyTree | null };

/** Known keys of a configuration file, in canonical spelling. */
export const KNOWN_KEYS: KeyTree = {
  teleport: {
    addr: null,
    auth_server: null,
    identity: null,
    refresh_identity: null,
    refresh_identity_interval: null,
    client_key: null,
    client_crt: null,
    root_cas: null,
    cluster_name: null,
    dial_mode: null,
  },
  pagerduty: {
    api_key: null,
    user_email: null,
    api_endpoint: null,
    ca_file: null,
    rate_limit_per_minute: null,
    request_timeout: null,
    max_concurrent_requests: null,
    request_annotations: { notify_service: null, services: null },
    auto_approval: null,
  },
  log: { output: null, severity: null, format: null },
  diag: { addr: null },
  review: REVIEW_KEYS,
};

/** Extra spellings beyond the automatic lower/upper-case ones (Go field name of an untagged table). */
const EXTRA_ALIASES: Record<string, readonly string[]> = {
  "pagerduty.request_annotations": ["RequestAnnotations", "requestAnnotations"],
};

const LEGACY_HINT = "it belonged to the webhook-based plugin removed in the 6.2 rewrite and is ignored";

/** Keys of the pre-6.2 plugin, with what replaced them. */
const LEGACY_KEYS: Record<string, string> = {
  "pagerduty.service_id":
    `${LEGACY_HINT}; incidents now go to the service named in the request's \`pagerduty_notify_service\` annotation`,
  "pagerduty.auto_approve":
    `${LEGACY_HINT}; auto-approval now happens for on-call users listed by the \`pagerduty_services\` annotation`,
  http: `${LEGACY_HINT}; approving from PagerDuty is now the [review] section (see the README)`,
};

export type RawTable = Record<string, unknown>;

/** Something to tell the operator about a key, and that key's segments as written in the file. */
export interface KeyWarning {
  message: string;
  spelled: string[];
}

export interface NormalizedKeys {
  table: RawTable;
  warnings: KeyWarning[];
  /** Canonical dotted key path (`pagerduty.request_annotations`) → its segments as written in the file. */
  spelledAs: Map<string, string[]>;
}

/** Returns a copy of the TOML tree with canonical key names, plus warnings for unused keys. */
export function normalizeKeys(raw: RawTable, known: KeyTree = KNOWN_KEYS): NormalizedKeys {
  const warnings: KeyWarning[] = [];
  const spelledAs = new Map<string, string[]>();
  const table = normalizeTable(raw, known, { prefix: "", spelled: [] }, warnings, spelledAs);
  return { table, warnings, spelledAs };
}

export function isTable(v: unknown): v is RawTable {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function join(prefix: string, key: string): string {
  return prefix === "" ? key : `${prefix}.${key}`;
}

/** Spellings that go-toml would match for a canonical key, most preferred first. */
function spellings(canonical: string, path: string): string[] {
  const all = [canonical, canonical.toLowerCase(), canonical.toUpperCase(), ...(EXTRA_ALIASES[path] ?? [])];
  for (const alias of EXTRA_ALIASES[path] ?? []) all.push(alias.toLowerCase(), alias.toUpperCase());
  return [...new Set(all)];
}

/** Where a table is: its canonical dotted path and its segments as written. */
interface TablePath {
  prefix: string;
  spelled: string[];
}

function normalizeTable(
  raw: RawTable,
  known: KeyTree,
  { prefix, spelled }: TablePath,
  warnings: KeyWarning[],
  spelledAs: Map<string, string[]>,
): RawTable {
  const out: RawTable = {};
  const used = new Set<string>();
  for (const [canonical, sub] of Object.entries(known)) {
    const path = join(prefix, canonical);
    const present = spellings(canonical, path).filter((s) => Object.hasOwn(raw, s));
    if (present.length === 0) continue;
    present.forEach((s) => used.add(s));
    const here = { prefix: path, spelled: [...spelled, present[0]] };
    spelledAs.set(path, here.spelled);
    if (present.length > 1) {
      const others = present.slice(1).map((s) => join(prefix, s)).join(", ");
      warnings.push({
        message: `${join(prefix, present[0])} and ${others} name the same setting; using ${
          join(prefix, present[0])
        }`,
        spelled: [...spelled, present[1]],
      });
    }
    const value = raw[present[0]];
    // A value of the wrong shape is left for the schema to report.
    out[canonical] = sub !== null && isTable(value)
      ? normalizeTable(value, sub, here, warnings, spelledAs)
      : value;
  }
  for (const key of Object.keys(raw)) {
    if (used.has(key)) continue;
    const path = join(prefix, key);
    const legacy = LEGACY_KEYS[path];
    warnings.push({
      message: legacy ? `${path} is obsolete: ${legacy}` : `unknown configuration key ${path} is ignored`,
      spelled: [...spelled, key],
    });
  }
  return out;
}
