/**
 * Finds the line of a key in a TOML text, so a message about a valid-TOML-but-wrong
 * value can say where to look (smol-toml keeps no positions for values).
 */

/** 1-based line of `keyPath` (e.g. "pagerduty.user_email") in `text`, if it can be found. */
export function lineOfKey(text: string, keyPath: string): number | undefined {
  const wanted = keyPath.toLowerCase().split(".");
  let table: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i]).trim();
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line);
    if (header) {
      table = splitKey(header[1]);
      if (sameKey(table, wanted)) return i + 1;
      continue;
    }
    const assignment = /^([^=]+?)\s*=/.exec(line);
    if (assignment && sameKey([...table, ...splitKey(assignment[1])], wanted)) return i + 1;
  }
  return undefined;
}

function sameKey(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((part, i) => part.toLowerCase() === b[i]);
}

/** `a."b.c".d` → ["a", "b.c", "d"]. */
function splitKey(key: string): string[] {
  return [...key.matchAll(/\s*("([^"]*)"|'([^']*)'|[^.\s]+)\s*\.?/g)].map((m) => m[2] ?? m[3] ?? m[1]);
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "#") {
      return line.slice(0, i);
    }
  }
  return line;
}
