/**
 * Reading a configuration file: TOML parse → key normalisation → api_key file
 * resolution → schema validation. All I/O lives here; the steps are pure.
 */
import { parse, TomlError } from "smol-toml";
import type { Config } from "./types.ts";
import { ConfigError, sourceName } from "./errors.ts";
import { isTable, type NormalizedKeys, normalizeKeys, type RawTable } from "./keys.ts";
import { findKeyLines } from "./key_lines.ts";
import { validateConfig } from "./schema.ts";
import { resolveReviewSecretFiles } from "./review.ts";

export const DEFAULT_CONFIG_PATH = "/etc/teleport-pagerduty.toml";

/** Upstream's lib.ReadPassword reads at most this many bytes. */
const MAX_KEY_FILE_BYTES = 2000;

export interface LoadedConfig {
  config: Config;
  /** Things the operator should fix; log them once logging is set up. */
  warnings: string[];
}

/** Loads and validates the configuration at `path` ("-" reads standard input). */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const text = await readSource(path);
  const normalized = normalizeKeys(parseToml(text, path));
  const { table } = normalized;
  const warnings = locatedKeyWarnings(text, path, normalized);
  let inlineKey: boolean;
  let validated: ReturnType<typeof validateConfig>;
  try {
    inlineKey = await resolveApiKeyFile(table, path, warnings);
    await resolveReviewSecretFiles(table, path);
    validated = validateConfig(table, path);
  } catch (err) {
    throw locatedConfigError(err, text, normalized);
  }
  const { config, warnings: schemaWarnings } = validated;
  warnings.push(...schemaWarnings.map((w) => `${sourceName(path)}: ${w}`));
  // The file only needs protecting when it holds the key itself.
  if (inlineKey && path !== "-") {
    await warnIfExposed(path, "configuration file containing pagerduty.api_key", warnings);
  }
  return { config, warnings };
}

/** The key warnings as `file:line: message` lines (the line when the key is found). */
export function locatedKeyWarnings(text: string, path: string, normalized: NormalizedKeys): string[] {
  const lines = normalized.warnings.length > 0 ? findKeyLines(text) : undefined;
  return normalized.warnings.map(({ message, spelled }) => {
    const line = lines?.lineOf(spelled);
    return `${sourceName(path)}${line === undefined ? "" : `:${line}`}: ${message}`;
  });
}

/** A ConfigError with each problem's line filled in (a missing key points at its table); anything else as is. */
export function locatedConfigError(err: unknown, text: string, normalized: NormalizedKeys): unknown {
  if (!(err instanceof ConfigError)) return err;
  const { spelledAs } = normalized;
  const lines = findKeyLines(text);
  return err.withLines((keyPath) => {
    // A key missing from the file points at its table, if that is there.
    const segments = keyPath.split(".");
    while (segments.length > 0 && !spelledAs.has(segments.join("."))) segments.pop();
    return segments.length === 0 ? undefined : lines.lineOf(spelledAs.get(segments.join("."))!);
  });
}

/** Reads the configuration text from `path`, or standard input for "-". */
export async function readSource(path: string): Promise<string> {
  try {
    return path === "-" ? await new Response(Deno.stdin.readable).text() : await Deno.readTextFile(path);
  } catch (err) {
    throw new ConfigError(path, [{ detail: `cannot read configuration: ${describeIoError(err)}` }], {
      cause: err,
    });
  }
}

/** Parses TOML; syntax errors keep smol-toml's position but drop its code frame (it may show secrets). */
export function parseToml(text: string, path: string): RawTable {
  try {
    // Integer nanosecond durations can exceed 2^53.
    return parse(text, { integersAsBigInt: "asNeeded" }) as RawTable;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message.split("\n")[0].replace(/^Invalid TOML document: /, "");
    throw new ConfigError(path, [{ detail: `invalid TOML: ${reason}` }], {
      line: err.line,
      column: err.column,
      cause: err,
    });
  }
}

/**
 * An api_key starting with "/" names a file holding the key (upstream, used by
 * the Helm chart). Replaces the path with the key in `table`; returns whether
 * the key was written inline in the configuration instead.
 */
async function resolveApiKeyFile(table: RawTable, source: string, warnings: string[]): Promise<boolean> {
  const pd = table.pagerduty;
  if (!isTable(pd) || typeof pd.api_key !== "string") return false;
  const value = pd.api_key;
  if (!value.startsWith("/")) return value.trim() !== "";
  pd.api_key = await readKeyFile(value, source);
  await warnIfExposed(value, "pagerduty.api_key file", warnings);
  return false;
}

/** Reads a secret from the file an `api_key`-style setting names (at most 2000 bytes, trimmed). */
export async function readKeyFile(
  path: string,
  source: string,
  keyPath = "pagerduty.api_key",
): Promise<string> {
  const fail = (detail: string, cause?: unknown) => new ConfigError(source, [{ keyPath, detail }], { cause });
  let bytes: Uint8Array;
  try {
    using file = await Deno.open(path);
    // One byte more than the limit tells a too-large file from an exact fit.
    bytes = await readUpTo(file, MAX_KEY_FILE_BYTES + 1);
  } catch (err) {
    throw fail(`Error reading API key file ${path}: ${describeIoError(err)}`, err);
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) {
    // Upstream silently truncates, which turns into a baffling 401 later.
    throw fail(
      `key file ${path} is larger than ${MAX_KEY_FILE_BYTES} bytes; it must contain only the API key`,
    );
  }
  return new TextDecoder().decode(bytes).trim();
}

async function readUpTo(file: Deno.FsFile, limit: number): Promise<Uint8Array> {
  const buf = new Uint8Array(limit);
  let filled = 0;
  while (filled < limit) {
    const n = await file.read(buf.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buf.subarray(0, filled);
}

/** Secrets readable by other users deserve a warning (POSIX only; Windows has no mode bits). */
export async function warnIfExposed(path: string, what: string, warnings: string[]): Promise<void> {
  const { mode } = await Deno.stat(path);
  if (mode !== null && (mode & 0o077) !== 0) {
    warnings.push(
      `${what} ${path} is accessible by group or other users (mode ${
        (mode & 0o777).toString(8)
      }); run \`chmod 600 ${path}\``,
    );
  }
}

function describeIoError(err: unknown): string {
  if (err instanceof Deno.errors.NotFound) return "file not found";
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return "permission denied";
  }
  if (err instanceof Deno.errors.IsADirectory) return "is a directory";
  return err instanceof Error ? err.message : String(err);
}
