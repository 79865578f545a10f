/**
 * Finds the line of a key in TOML text, so a validation error can say where to look
 * ("file:12: opsgenie.priority: …"). A line scan, not a parser: it knows `[table]`
 * headers and `key = value` lines, which is what configuration files use.
 */

/**
 * 1-based line of `keyPath` ("opsgenie.priority", or "opsgenie" for the table); for a
 * path into a value ("opsgenie.default_schedules.0") the line of the nearest key found.
 */
export function lineOfKey(text: string, keyPath: string): number | undefined {
  const parts = keyPath.toLowerCase().split(".");
  for (let n = parts.length; n > 0; n--) {
    const line = findKey(text, parts.slice(0, n).join("."));
    if (line !== undefined) return line;
  }
  return undefined;
}

function findKey(text: string, wanted: string): number | undefined {
  const lines = text.split("\n");
  let table = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/#.*$/, "").trim();
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (header) {
      table = header[1].toLowerCase();
      if (table === wanted) return i + 1;
      continue;
    }
    const key = /^([A-Za-z0-9_.-]+)\s*=/.exec(line)?.[1]?.toLowerCase();
    if (key !== undefined && (table ? `${table}.${key}` : key) === wanted) return i + 1;
  }
  return undefined;
}
