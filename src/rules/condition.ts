/**
 * Access monitoring rule conditions: names and types resolved once when the rule
 * is parsed (as Teleport's typical parser does, so a misspelt variable or a type
 * mix-up fails the parse), then evaluated per access request.
 *
 * Variables (Teleport's access-request condition parser):
 *   access_request.spec.roles, .suggested_reviewers            set
 *   access_request.spec.system_annotations                     map of sets
 *   access_request.spec.user, .request_reason                  string
 *   access_request.spec.creation_time, .expiry                 time
 *   access_request.spec.resource_labels_intersection, _union   map of sets (see below)
 *   user.traits                                                map of sets
 *   true, false
 * A map is indexed as m["key"] or m.key; a missing key is the empty set.
 *
 * Resource labels need the requested resources' labels, which this plugin cannot
 * read. For a request without requested resources they are the empty map, as in
 * Teleport; for a resource request, evaluating them fails, so the rule is skipped
 * (with a warning) rather than guessed.
 */
import type { AccessRequest } from "../core/types.ts";
import { type BinaryOp, type Node, parseSyntax } from "./syntax.ts";
import { type Builtin, FUNCTIONS, METHODS } from "./functions.ts";
import { ConditionEvalError, Dict, expectType, StringSet, type Type, type Value } from "./values.ts";

/** What a condition is evaluated against. */
export interface ConditionEnv {
  request: AccessRequest;
  /** The requesting user's traits; empty when unknown. */
  traits: Record<string, string[]>;
}

/** A condition that names an unknown variable or function, or mixes up types. */
export class ConditionTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConditionTypeError";
  }
}

/** Go's zero time.Time, what an unset creation time or expiry reads as. */
const GO_ZERO_TIME = new Date(-62135596800000);

interface Variable {
  type: Type;
  get(env: ConditionEnv): Value;
}

function resourceLabels(env: ConditionEnv): Dict {
  if ((env.request.requestedResourceIds ?? []).length === 0) return new Dict();
  throw new ConditionEvalError(
    "resource labels of requested resources are not available to this plugin; the rule is skipped",
  );
}

/** The variable whose use makes the rules fetch the requester's traits. */
export const TRAITS_VARIABLE = "user.traits";

const VARIABLES: Record<string, Variable> = {
  true: { type: "bool", get: () => true },
  false: { type: "bool", get: () => false },
  "access_request.spec.roles": { type: "set", get: (env) => new StringSet(env.request.roles) },
  "access_request.spec.suggested_reviewers": {
    type: "set",
    get: (env) => new StringSet(env.request.suggestedReviewers),
  },
  "access_request.spec.system_annotations": {
    type: "dict",
    get: (env) => Dict.fromRecord(env.request.systemAnnotations),
  },
  "access_request.spec.user": { type: "string", get: (env) => env.request.user },
  "access_request.spec.request_reason": { type: "string", get: (env) => env.request.requestReason },
  "access_request.spec.creation_time": { type: "time", get: (env) => env.request.created ?? GO_ZERO_TIME },
  "access_request.spec.expiry": { type: "time", get: (env) => env.request.expires ?? GO_ZERO_TIME },
  "access_request.spec.resource_labels_intersection": { type: "dict", get: resourceLabels },
  "access_request.spec.resource_labels_union": { type: "dict", get: resourceLabels },
  [TRAITS_VARIABLE]: { type: "dict", get: (env) => Dict.fromRecord(env.traits) },
};

interface Compiled {
  type: Type;
  evaluate(env: ConditionEnv): Value;
}

/** A parsed, type-checked condition. */
export class Condition {
  private constructor(
    readonly text: string,
    private readonly root: Compiled,
    /** The variables it reads (e.g. to fetch user traits only when needed). */
    readonly variables: ReadonlySet<string>,
  ) {}

  /** Parses and type-checks; throws ConditionSyntaxError or ConditionTypeError. */
  static parse(text: string): Condition {
    const used = new Set<string>();
    const root = new Compiler(used).compile(parseSyntax(text));
    return new Condition(text, root, used);
  }

  /** True when the condition holds; a non-boolean result is false. Throws ConditionEvalError. */
  matches(env: ConditionEnv): boolean {
    return this.root.evaluate(env) === true;
  }
}

/** The dotted name of an identifier chain (a.b.c), or undefined for anything else. */
function pathOf(node: Node): string[] | undefined {
  if (node.kind === "ident") return [node.name];
  if (node.kind !== "select") return undefined;
  const target = pathOf(node.target);
  return target && [...target, node.name];
}

function accepts(param: Type, arg: Type): boolean {
  return param === "any" || arg === "any" || param === arg;
}

class Compiler {
  constructor(private readonly used: Set<string>) {}

  compile(node: Node): Compiled {
    switch (node.kind) {
      case "string": {
        const value = node.value;
        return { type: "string", evaluate: () => value };
      }
      case "int": {
        const value = node.value;
        return { type: "int", evaluate: () => value };
      }
      case "ident":
      case "select":
        return this.#path(node);
      case "index":
        return this.#index(this.compile(node.target), this.compile(node.index));
      case "call":
        return this.#call(node);
      case "not": {
        const operand = this.#typed(this.compile(node.operand), "bool", "operand of (!)");
        return { type: "bool", evaluate: (env) => !operand.evaluate(env) };
      }
      case "binary":
        return this.#binary(node.op, this.compile(node.left), this.compile(node.right));
    }
  }

  #path(node: Node): Compiled {
    const parts = pathOf(node);
    if (!parts) throw new ConditionTypeError("a field can only be selected from a variable");
    for (let i = 1; i <= parts.length; i++) {
      const name = parts.slice(0, i).join(".");
      const variable = VARIABLES[name];
      if (!variable) continue;
      const rest = parts.length - i;
      if (rest === 0 || (rest === 1 && variable.type === "dict")) {
        this.used.add(name);
        const compiled: Compiled = { type: variable.type, evaluate: (env) => variable.get(env) };
        if (rest === 0) return compiled;
        const key = parts[i];
        return this.#index(compiled, { type: "string", evaluate: () => key });
      }
    }
    throw new ConditionTypeError(`unknown identifier: "${parts.join(".")}"`);
  }

  #index(target: Compiled, key: Compiled): Compiled {
    this.#typed(target, "dict", "base of index expression");
    this.#typed(key, "string", "key of index expression");
    return {
      type: "set",
      evaluate: (env) => {
        const dict = expectType<Dict>(target.evaluate(env), "dict", "base of index expression");
        return dict.get(expectType<string>(key.evaluate(env), "string", "key of index expression"));
      },
    };
  }

  #call(node: Extract<Node, { kind: "call" }>): Compiled {
    const path = pathOf(node.callee);
    const functionName = path?.join(".");
    if (functionName !== undefined && FUNCTIONS[functionName]) {
      return this.#apply(functionName, FUNCTIONS[functionName], node.args.map((arg) => this.compile(arg)));
    }
    if (node.callee.kind === "select" && METHODS[node.callee.name]) {
      const receiver = this.compile(node.callee.target);
      const args = [receiver, ...node.args.map((arg) => this.compile(arg))];
      return this.#apply(node.callee.name, METHODS[node.callee.name], args);
    }
    const name = node.callee.kind === "select" ? node.callee.name : functionName ?? "?";
    throw new ConditionTypeError(`unsupported function: ${name}`);
  }

  #apply(name: string, builtin: Builtin, args: Compiled[]): Compiled {
    const { params, rest } = builtin;
    if (args.length < params.length || (!rest && args.length > params.length)) {
      const expected = rest ? `at least ${params.length}` : `${params.length}`;
      throw new ConditionTypeError(`function (${name}) accepts ${expected} arguments, given ${args.length}`);
    }
    const types = args.map((_, i) => i < params.length ? params[i] : rest!);
    args.forEach((arg, i) => this.#typed(arg, types[i], `argument ${i + 1} to function (${name})`));
    return {
      type: builtin.returns,
      evaluate: (env) => {
        const values = args.map((arg, i) =>
          expectType(arg.evaluate(env), types[i], `argument ${i + 1} to (${name})`)
        );
        return builtin.impl(values);
      },
    };
  }

  #binary(op: BinaryOp, left: Compiled, right: Compiled): Compiled {
    if (op === "&&" || op === "||") {
      this.#typed(left, "bool", `lhs of (${op})`);
      this.#typed(right, "bool", `rhs of (${op})`);
      const stopOn = op === "||";
      return {
        type: "bool",
        evaluate: (env) => {
          const lhs = expectType<boolean>(left.evaluate(env), "bool", `lhs of (${op})`);
          if (lhs === stopOn) return lhs;
          return expectType<boolean>(right.evaluate(env), "bool", `rhs of (${op})`);
        },
      };
    }
    const operandType = left.type === "any" ? right.type : left.type;
    if (operandType === "any") {
      throw new ConditionTypeError(
        `operator (${op}) can only be used when at least one operand type is known`,
      );
    }
    if (operandType !== "string" && operandType !== "int") {
      throw new ConditionTypeError(`operator (${op}) not supported for type: ${operandType}`);
    }
    this.#typed(left, operandType, `lhs of (${op})`);
    this.#typed(right, operandType, `rhs of (${op})`);
    return {
      type: "bool",
      evaluate: (env) => {
        const lhs = expectType(left.evaluate(env), operandType, `lhs of (${op})`);
        const rhs = expectType(right.evaluate(env), operandType, `rhs of (${op})`);
        return (lhs === rhs) === (op === "==");
      },
    };
  }

  #typed(compiled: Compiled, type: Type, what: string): Compiled {
    if (!accepts(type, compiled.type)) {
      throw new ConditionTypeError(`${what}: expected ${type}, got ${compiled.type}`);
    }
    return compiled;
  }
}
