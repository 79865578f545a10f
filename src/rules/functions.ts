/**
 * The functions and methods of the condition language, with Teleport's semantics
 * (lib/expression DefaultParserSpec plus the access-request additions). A method
 * is a function whose first parameter is the receiver: `s.contains(x)` is
 * `contains(s, x)`. Traps kept on purpose, because Teleport behaves so:
 * - contains_all(s1, s2) is false when s2 is empty;
 * - the emptiness test is the function `is_empty(s)` or the method `s.isempty()`
 *   (no underscore); `s.is_empty()` is an unknown method;
 * - between(t, a, b) excludes its bounds and accepts them in either order.
 */
import {
  ConditionEvalError,
  Dict,
  expectType,
  Option,
  Pair,
  StringSet,
  type Type,
  type Value,
} from "./values.ts";

export interface Builtin {
  /** Types of the fixed parameters ("any" is checked when called). */
  params: Type[];
  /** Type of any further (variadic) arguments; absent = exactly `params`. */
  rest?: Type;
  returns: Type;
  impl(args: Value[]): Value;
}

function setOf(value: Value, what: string): StringSet {
  return expectType<StringSet>(value, "set", what);
}

/** strings.upper and friends take a string or a set and return the same kind. */
function transform(name: string, input: Value, f: (s: string) => string): Value {
  if (typeof input === "string") return f(input);
  if (input instanceof StringSet) return new StringSet(input.toArray().map(f));
  throw new ConditionEvalError(`${name}: expected string or set`);
}

function containsAny(s1: StringSet, s2: StringSet): boolean {
  for (const item of s2.items) if (s1.has(item)) return true;
  return false;
}

function containsAll(s1: StringSet, s2: StringSet): boolean {
  if (s2.size === 0) return false;
  for (const item of s2.items) if (!s1.has(item)) return false;
  return true;
}

function between(t: Date, a: Date, b: Date): boolean {
  const [low, high] = a.getTime() <= b.getTime() ? [a, b] : [b, a];
  return t.getTime() > low.getTime() && t.getTime() < high.getTime();
}

function emailLocal(address: string): string {
  let inner = address.trim();
  const open = inner.lastIndexOf("<");
  if (open >= 0 && inner.endsWith(">")) inner = inner.slice(open + 1, -1);
  const at = inner.lastIndexOf("@");
  if (at <= 0 || at === inner.length - 1) {
    throw new ConditionEvalError(`email.local: failed to parse email address "${address}"`);
  }
  return inner.slice(0, at);
}

/** Go's regexp replacement syntax ($1, ${1}, ${name}) in JavaScript's ($1, $<name>). */
function goReplacement(replacement: string): string {
  let out = "";
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i];
    if (c === "$" && replacement[i + 1] === "{") {
      const close = replacement.indexOf("}", i);
      if (close > 0) {
        const name = replacement.slice(i + 2, close);
        out += [...name].every((d) => d >= "0" && d <= "9") ? `$${name}` : `$<${name}>`;
        i = close;
        continue;
      }
    }
    out += c;
  }
  return out;
}

function regexpReplace(inputs: StringSet, match: string, replacement: string): StringSet {
  let pattern: RegExp;
  try {
    pattern = new RegExp(match);
  } catch (error) {
    throw new ConditionEvalError(`regexp.replace: invalid regular expression: ${(error as Error).message}`);
  }
  const global = new RegExp(pattern.source, "g");
  const out: string[] = [];
  // As Teleport does, inputs that do not match are dropped.
  for (const input of inputs.items) {
    if (pattern.test(input)) out.push(input.replace(global, goReplacement(replacement)));
  }
  return new StringSet(out);
}

function digitsAt(text: string, at: number, count: number): boolean {
  for (let i = at; i < at + count; i++) if (!(text[i] >= "0" && text[i] <= "9")) return false;
  return true;
}

/** Go's time.Parse(time.RFC3339, ...): 2006-01-02T15:04:05[.frac](Z|±07:00). */
function parseRfc3339(text: string): Date {
  const shape = text.length >= 20 && digitsAt(text, 0, 4) && text[4] === "-" && digitsAt(text, 5, 2) &&
    text[7] === "-" && digitsAt(text, 8, 2) && (text[10] === "T" || text[10] === "t") &&
    digitsAt(text, 11, 2) && text[13] === ":" && digitsAt(text, 14, 2) && text[16] === ":" &&
    digitsAt(text, 17, 2);
  let i = 19;
  if (shape && text[i] === ".") {
    i++;
    while (text[i] >= "0" && text[i] <= "9") i++;
  }
  const zone = text.slice(i);
  const zoneOk = zone === "Z" || zone === "z" ||
    (zone.length === 6 && (zone[0] === "+" || zone[0] === "-") && digitsAt(zone, 1, 2) && zone[3] === ":" &&
      digitsAt(zone, 4, 2));
  const date = new Date(text.toUpperCase());
  if (!shape || !zoneOk || Number.isNaN(date.getTime())) {
    throw new ConditionEvalError(`time.RFC3339: cannot parse "${text}" as RFC 3339`);
  }
  return date;
}

function toDict(pairs: Value[]): Dict {
  const entries: Array<[string, StringSet]> = [];
  for (const pair of pairs) {
    const { first, second } = expectType<Pair>(pair, "pair", "dict");
    const key = expectType<string>(first, "string", "dict key");
    const value = typeof second === "string" ? new StringSet([second]) : setOf(second, "dict value");
    entries.push([key, value]);
  }
  return new Dict(entries);
}

const TIME_COMPARISONS = {
  before: { params: ["time", "time"], returns: "bool", impl: ([a, b]) => (a as Date) < (b as Date) },
  after: { params: ["time", "time"], returns: "bool", impl: ([a, b]) => (a as Date) > (b as Date) },
  between: {
    params: ["time", "time", "time"],
    returns: "bool",
    impl: ([t, a, b]) => between(t as Date, a as Date, b as Date),
  },
} satisfies Record<string, Builtin>;

const SET_TESTS = {
  contains_any: {
    params: ["set", "set"],
    returns: "bool",
    impl: ([a, b]) => containsAny(a as StringSet, b as StringSet),
  },
  contains_all: {
    params: ["set", "set"],
    returns: "bool",
    impl: ([a, b]) => containsAll(a as StringSet, b as StringSet),
  },
} satisfies Record<string, Builtin>;

/** Functions, by (possibly dotted) name. */
export const FUNCTIONS: Record<string, Builtin> = {
  set: { params: [], rest: "string", returns: "set", impl: (args) => new StringSet(args as string[]) },
  dict: { params: [], rest: "pair", returns: "dict", impl: toDict },
  pair: { params: ["any", "any"], returns: "pair", impl: ([a, b]) => new Pair(a, b) },
  union: {
    params: [],
    rest: "set",
    returns: "set",
    impl: (sets) => new StringSet((sets as StringSet[]).flatMap((s) => s.toArray())),
  },
  ifelse: { params: ["bool", "any", "any"], returns: "any", impl: ([c, a, b]) => c ? a : b },
  choose: {
    params: [],
    rest: "option",
    returns: "any",
    impl: (options) => {
      const chosen = (options as Option[]).find((option) => option.condition);
      if (!chosen) {
        throw new ConditionEvalError(
          'choose: no option could be selected, consider adding a default option by hardcoding the condition to "true"',
        );
      }
      return chosen.value;
    },
  },
  option: { params: ["bool", "any"], returns: "option", impl: ([c, v]) => new Option(c as boolean, v) },
  "strings.upper": {
    params: ["any"],
    returns: "any",
    impl: ([s]) => transform("strings.upper", s, (x) => x.toUpperCase()),
  },
  "strings.lower": {
    params: ["any"],
    returns: "any",
    impl: ([s]) => transform("strings.lower", s, (x) => x.toLowerCase()),
  },
  "strings.replaceall": {
    params: ["any", "string", "string"],
    returns: "any",
    impl: ([s, m, r]) => transform("strings.replaceall", s, (x) => x.replaceAll(m as string, r as string)),
  },
  "strings.split": {
    params: ["set", "string"],
    returns: "set",
    impl: ([s, sep]) => new StringSet((s as StringSet).toArray().flatMap((x) => x.split(sep as string))),
  },
  "email.local": {
    params: ["set"],
    returns: "set",
    impl: ([s]) => new StringSet((s as StringSet).toArray().map(emailLocal)),
  },
  "regexp.replace": {
    params: ["set", "string", "string"],
    returns: "set",
    impl: ([s, m, r]) => regexpReplace(s as StringSet, m as string, r as string),
  },
  "time.RFC3339": { params: ["string"], returns: "time", impl: ([s]) => parseRfc3339(s as string) },
  ...TIME_COMPARISONS,
  ...SET_TESTS,
  is_empty: { params: ["set"], returns: "bool", impl: ([s]) => (s as StringSet).size === 0 },
};

/** Methods, by name; the receiver is the first parameter. */
export const METHODS: Record<string, Builtin> = {
  contains: {
    params: ["set", "string"],
    returns: "bool",
    impl: ([s, x]) => (s as StringSet).has(x as string),
  },
  add: {
    params: ["set"],
    rest: "string",
    returns: "set",
    impl: ([s, ...xs]) => new StringSet([...(s as StringSet).items, ...(xs as string[])]),
  },
  put: {
    params: ["dict", "string", "set"],
    returns: "dict",
    impl: ([d, k, v]) => new Dict([...(d as Dict).entries, [k as string, v as StringSet]]),
  },
  add_values: {
    params: ["dict", "string"],
    rest: "string",
    returns: "dict",
    impl: ([d, k, ...xs]) => {
      const dict = d as Dict;
      const merged = new StringSet([...dict.get(k as string).items, ...(xs as string[])]);
      return new Dict([...dict.entries, [k as string, merged]]);
    },
  },
  remove: {
    params: ["any"],
    rest: "string",
    returns: "any",
    impl: ([r, ...xs]) => {
      const drop = new Set(xs as string[]);
      if (r instanceof StringSet) return new StringSet([...r.items].filter((x) => !drop.has(x)));
      if (r instanceof Dict) return new Dict([...r.entries].filter(([k]) => !drop.has(k)));
      throw new ConditionEvalError("remove: expected set or dict");
    },
  },
  ...TIME_COMPARISONS,
  ...SET_TESTS,
  isempty: { params: ["set"], returns: "bool", impl: ([s]) => (s as StringSet).size === 0 },
};
