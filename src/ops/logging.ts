/**
 * Logging for the whole program, on LogTape.
 *
 * Loggers live under the ["teleport-pagerduty", …] category; use `getLog("core")`.
 * Structured fields keep upstream's names (`request_id`, `pd_incident_id`,
 * `pd_service_name`, `pd_user_email`, …) so existing log queries keep working.
 *
 * Formats:
 * - text: `2026-11-23T18:00:00.000Z INFO  [teleport-pagerduty·core] Message key=value …`
 * - json: one object per line: `@timestamp`, `level`, `logger`, `message`, then the
 *   record's properties flattened at top level (`{"request_id": "…"}`), so
 *   `jq .request_id` works. A property that collides with one of those four
 *   names is written with a leading underscore (`_level`).
 *
 * Output goes to stderr, stdout or a file opened for appending. Lines are written
 * with plain write(2) calls, never fsync, so a busy plugin does not stall on disk.
 */
import {
  configure,
  getLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  reset,
  type Sink,
} from "@logtape/logtape";
import type { LogConfig, LogSeverity } from "../config/types.ts";
import { Redactor } from "./redact.ts";

export const LOG_ROOT = "teleport-pagerduty";

/** A logger under the plugin's root category, e.g. `getLog("core", "watcher")`. */
export function getLog(...subcategory: string[]): Logger {
  return getLogger([LOG_ROOT, ...subcategory]);
}

export interface LoggingOptions {
  /** `--debug`: log at debug level whatever `log.severity` says. */
  debug?: boolean;
  /** Values that must never reach the log (the PagerDuty API key). */
  secrets?: readonly string[];
  /** The program's name shown as the root logger ("teleport-opsgenie"); default LOG_ROOT. */
  program?: string;
}

const LEVELS: Record<LogSeverity, LogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warning",
  error: "error",
};

/** Configures logging; replaces any previous setup. Throws when a log file cannot be opened. */
export async function setupLogging(log: LogConfig, opts: LoggingOptions = {}): Promise<void> {
  const writer = openWriter(log.output);
  const redactor = new Redactor(opts.secrets ?? []);
  const format = log.format === "json" ? formatJson : formatText;
  const program = opts.program ?? LOG_ROOT;
  const named = (r: LogRecord): LogRecord =>
    r.category[0] === LOG_ROOT && program !== LOG_ROOT
      ? { ...r, category: [program, ...r.category.slice(1)] }
      : r;
  const sink: Sink & Disposable = Object.assign(
    (record: LogRecord) => writer.write(format(redactor.record(named(record))) + "\n"),
    { [Symbol.dispose]: () => writer.close() },
  );
  await configure({
    reset: true,
    sinks: { main: sink },
    loggers: [
      { category: [LOG_ROOT], sinks: ["main"], lowestLevel: opts.debug ? "debug" : LEVELS[log.severity] },
      // LogTape's own diagnostics (failing sinks); also silences its startup banner.
      { category: ["logtape", "meta"], sinks: ["main"], lowestLevel: "warning" },
    ],
  });
}

/** Flushes and closes the log output; later log calls are dropped. */
export async function shutdownLogging(): Promise<void> {
  await reset();
}

/** Whether log lines end up on the terminal's stderr (the CLI then skips repeating fatal errors). */
export function logsToStderr(log: LogConfig): boolean {
  return log.output === "stderr";
}

interface LineWriter {
  write(line: string): void;
  close(): void;
}

function openWriter(output: string): LineWriter {
  if (output === "stderr") return fdWriter(Deno.stderr, false);
  if (output === "stdout") return fdWriter(Deno.stdout, false);
  try {
    // Append rather than truncate (upstream truncates, losing the previous run's logs).
    return fdWriter(Deno.openSync(output, { append: true, create: true, mode: 0o640 }), true);
  } catch (err) {
    throw new Error(`failed to open the log file ${output}: ${(err as Error).message}`, { cause: err });
  }
}

function fdWriter(fd: { writeSync(p: Uint8Array): number; close(): void }, owned: boolean): LineWriter {
  const encoder = new TextEncoder();
  let closed = false;
  return {
    write(line) {
      if (closed) return;
      let bytes = encoder.encode(line);
      while (bytes.length > 0) bytes = bytes.subarray(fd.writeSync(bytes));
    },
    close() {
      if (!closed && owned) fd.close();
      closed = true;
    },
  };
}

const LEVEL_LABEL: Record<LogLevel, string> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO",
  warning: "WARN",
  error: "ERROR",
  fatal: "FATAL",
};

function renderMessage(record: LogRecord): string {
  return record.message.map((part, i) => i % 2 === 0 ? String(part) : renderValue(part)).join("");
}

function renderValue(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  return toJson(v);
}

function toJson(v: unknown): string {
  try {
    return JSON.stringify(v, jsonReplacer) ?? String(v);
  } catch {
    return String(v); // cyclic structures
  }
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
  return v;
}

/** key=value; values with spaces, quotes or "=" are JSON-quoted so lines stay parseable. */
function renderProperty(key: string, v: unknown): string {
  const text = renderValue(v);
  return `${key}=${/^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)}`;
}

/** Property names already rendered inside the message via `{name}`; text lines skip repeating them. */
function placeholders(record: LogRecord): Set<string> {
  const raw = typeof record.rawMessage === "string" ? record.rawMessage : "";
  return new Set([...raw.matchAll(/\{([^{}\s]+)\}/g)].map((m) => m[1]));
}

export function formatText(record: LogRecord): string {
  const head = `${new Date(record.timestamp).toISOString()} ${LEVEL_LABEL[record.level].padEnd(5)} [${
    record.category.join("·")
  }] ${renderMessage(record)}`;
  const shown = placeholders(record);
  const props = Object.entries(record.properties).filter(([k]) => !shown.has(k)).map(([k, v]) =>
    renderProperty(k, v)
  );
  return props.length === 0 ? head : `${head} ${props.join(" ")}`;
}

const RESERVED_JSON_KEYS = new Set(["@timestamp", "level", "logger", "message"]);

export function formatJson(record: LogRecord): string {
  const line: Record<string, unknown> = {
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: LEVEL_LABEL[record.level],
    logger: record.category.join("."),
    message: renderMessage(record),
  };
  for (const [k, v] of Object.entries(record.properties)) line[RESERVED_JSON_KEYS.has(k) ? `_${k}` : k] = v;
  return toJson(line);
}
