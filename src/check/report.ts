/**
 * The result of `check`: one item per thing checked, each ok, a warning or an error,
 * with the fix for anything that is not ok. Exit status 1 when any item is an error.
 */

export type CheckStatus = "ok" | "warning" | "error";

export interface CheckItem {
  /** Stable dotted id, e.g. "teleport.permissions.access_request" (for automation). */
  id: string;
  status: CheckStatus;
  /** What was found, one line. */
  message: string;
  /** What to do about it (warnings and errors). */
  fix?: string;
}

/** Shorthands that keep check code readable. */
export const ok = (id: string, message: string): CheckItem => ({ id, status: "ok", message });
/** A problem that does not stop the plugin, with its fix. */
export const warning = (id: string, message: string, fix: string): CheckItem => ({
  id,
  status: "warning",
  message,
  fix,
});
/** A problem that makes the plugin fail or do nothing, with its fix. */
export const error = (id: string, message: string, fix: string): CheckItem => ({
  id,
  status: "error",
  message,
  fix,
});

/** 0 when nothing is an error, else 1. */
export function exitCodeOf(items: readonly CheckItem[]): number {
  return items.some((item) => item.status === "error") ? 1 : 0;
}

const LABEL: Record<CheckStatus, string> = { ok: "ok     ", warning: "warning", error: "error  " };

/** One line per item (`status  id  message — fix: …`), then a summary line. */
export function formatText(items: readonly CheckItem[]): string {
  const width = Math.max(...items.map((item) => item.id.length), 0);
  const lines = items.map((item) => {
    const fix = item.fix ? ` — fix: ${item.fix}` : "";
    return `${LABEL[item.status]}  ${item.id.padEnd(width)}  ${item.message}${fix}`;
  });
  const count = (status: CheckStatus) => items.filter((item) => item.status === status).length;
  lines.push(`${count("error")} error(s), ${count("warning")} warning(s), ${count("ok")} ok`);
  return lines.join("\n") + "\n";
}

/** `{"status": "ok"|"warning"|"error", "items": [...]}` — the worst status first, for automation. */
export function formatJson(items: readonly CheckItem[]): string {
  const status: CheckStatus = items.some((i) => i.status === "error")
    ? "error"
    : items.some((i) => i.status === "warning")
    ? "warning"
    : "ok";
  return JSON.stringify({ status, items }, null, 2) + "\n";
}
