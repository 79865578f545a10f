/**
 * Run-time values of the condition language and their types. Teleport's predicate
 * language is typed: sets of strings, maps from string to set ("dicts"), strings,
 * integers, booleans and times. Each operation checks its operands' types, so a
 * condition that mixes them up fails instead of silently matching.
 */

/** An immutable set of strings (Teleport's expression.Set). */
export class StringSet {
  readonly items: ReadonlySet<string>;

  constructor(items: Iterable<string> = []) {
    this.items = new Set(items);
  }

  has(item: string): boolean {
    return this.items.has(item);
  }

  get size(): number {
    return this.items.size;
  }

  /** The items in sorted order (stable output for tests and logs). */
  toArray(): string[] {
    return [...this.items].sort();
  }
}

/** An immutable map from string to StringSet; a missing key reads as the empty set. */
export class Dict {
  readonly entries: ReadonlyMap<string, StringSet>;

  constructor(entries: Iterable<[string, StringSet]> = []) {
    this.entries = new Map(entries);
  }

  /** Teleport's Dict.Get: a missing key is the empty (nil) set, never an error. */
  get(key: string): StringSet {
    return this.entries.get(key) ?? EMPTY_SET;
  }

  /** `map[string][]string` (traits, annotations) as a Dict. */
  static fromRecord(record: Record<string, string[]>): Dict {
    return new Dict(Object.entries(record).map(([key, values]) => [key, new StringSet(values)]));
  }
}

export const EMPTY_SET = new StringSet();

/** `pair(a, b)`: an argument of dict(). */
export class Pair {
  constructor(readonly first: Value, readonly second: Value) {}
}

/** `option(cond, value)`: an argument of choose(). */
export class Option {
  constructor(readonly condition: boolean, readonly value: Value) {}
}

export type Value = boolean | string | number | StringSet | Dict | Date | Pair | Option;

/** Static type of an expression; "any" is checked when evaluated (ifelse, choose, ...). */
export type Type = "bool" | "string" | "int" | "set" | "dict" | "time" | "pair" | "option" | "any";

/** The type of a run-time value. */
export function typeOf(value: Value): Exclude<Type, "any"> {
  if (typeof value === "boolean") return "bool";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "int";
  if (value instanceof StringSet) return "set";
  if (value instanceof Dict) return "dict";
  if (value instanceof Date) return "time";
  if (value instanceof Pair) return "pair";
  return "option";
}

/** A condition that failed while being evaluated (wrong types at run time, bad input). */
export class ConditionEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConditionEvalError";
  }
}

/** Checks `value` has `type` (used where the static type was "any"). */
export function expectType<T extends Value>(value: Value, type: Type, what: string): T {
  if (type !== "any" && typeOf(value) !== type) {
    throw new ConditionEvalError(`${what}: expected ${type}, got ${typeOf(value)}`);
  }
  return value as T;
}
