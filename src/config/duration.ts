/**
 * Go `time.Duration` values as go-toml v1 accepts them: a string understood by
 * `time.ParseDuration` ("1m", "1h30m", "500ms", "-1.5s") or an integer number of
 * nanoseconds. Results are milliseconds (fractions kept for sub-ms units).
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3, // micro sign
  "\u03bcs": 1e-3, // Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /^(\d+\.?\d*|\.\d+)([a-zµμ]+)/;

/** Parses a Go duration string into milliseconds; throws a readable Error. */
export function parseGoDuration(text: string): number {
  const invalid = () => new Error(`invalid duration "${text}" (examples: "30s", "1m", "1h30m", "500ms")`);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  // Go special-cases a bare zero; every other value needs a unit.
  if (rest === "0") return 0;
  if (rest === "") throw invalid();
  let total = 0;
  while (rest !== "") {
    const m = TERM.exec(rest);
    if (!m || !Object.hasOwn(UNIT_MS, m[2])) throw invalid();
    total += Number(m[1]) * UNIT_MS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** A TOML duration value (string or integer nanoseconds) in milliseconds. */
export function durationToMs(value: string | number | bigint): number {
  if (typeof value === "string") return parseGoDuration(value);
  return Number(value) / 1e6;
}
