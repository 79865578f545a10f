/**
 * The syntax of access monitoring rule conditions: a small recursive-descent parser
 * for the subset of Go expression syntax that Teleport's predicate language accepts
 * (Teleport parses conditions with go/parser through vulcand/predicate).
 *
 * Grammar (lowest precedence first, as in Go):
 *
 *   condition := or EOF
 *   or        := and { "||" and }
 *   and       := compare { "&&" compare }
 *   compare   := unary [ ("==" | "!=") unary ]
 *   unary     := "!" unary | postfix
 *   postfix   := primary { "." IDENT | "[" or "]" | "(" [ or { "," or } ] ")" }
 *   primary   := IDENT | STRING | INT | "(" or ")"
 *
 * STRING is a Go interpreted ("...", with escapes) or raw (`...`) string literal.
 * This file knows nothing about names or types; see condition.ts for that.
 */

export type BinaryOp = "&&" | "||" | "==" | "!=";

/** A syntax tree node; `pos` is the 0-based offset of the node in the condition text. */
export type Node =
  | { kind: "string"; value: string; pos: number }
  | { kind: "int"; value: number; pos: number }
  | { kind: "ident"; name: string; pos: number }
  | { kind: "select"; target: Node; name: string; pos: number }
  | { kind: "index"; target: Node; index: Node; pos: number }
  | { kind: "call"; callee: Node; args: Node[]; pos: number }
  | { kind: "not"; operand: Node; pos: number }
  | { kind: "binary"; op: BinaryOp; left: Node; right: Node; pos: number };

/** A condition that is not well-formed; the message names the offending column. */
export class ConditionSyntaxError extends Error {
  constructor(message: string, readonly pos: number) {
    super(`${message} at column ${pos + 1}`);
    this.name = "ConditionSyntaxError";
  }
}

type TokenKind = "ident" | "string" | "int" | "punct" | "eof";

interface Token {
  kind: TokenKind;
  text: string;
  /** Decoded value of a string literal. */
  value?: string;
  pos: number;
}

const PUNCTUATION = ["&&", "||", "==", "!=", "!", "(", ")", "[", "]", ",", "."];
const GO_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  '"': '"',
};

function isIdentStart(c: string): boolean {
  return (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}

function isHexDigit(c: string): boolean {
  return isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F");
}

/** Splits the text into tokens; whitespace separates tokens and is otherwise ignored. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < text.length && (isIdentStart(text[i]) || isDigit(text[i]))) i++;
      tokens.push({ kind: "ident", text: text.slice(start, i), pos: start });
    } else if (isDigit(c)) {
      const start = i;
      while (i < text.length && isDigit(text[i])) i++;
      if (i < text.length && (isIdentStart(text[i]) || text[i] === ".")) {
        throw new ConditionSyntaxError("only decimal integer numbers are supported", start);
      }
      tokens.push({ kind: "int", text: text.slice(start, i), pos: start });
    } else if (c === '"') {
      const [value, end] = readInterpreted(text, i);
      tokens.push({ kind: "string", text: text.slice(i, end), value, pos: i });
      i = end;
    } else if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end < 0) throw new ConditionSyntaxError("raw string literal not terminated", i);
      tokens.push({ kind: "string", text: text.slice(i, end + 1), value: text.slice(i + 1, end), pos: i });
      i = end + 1;
    } else {
      const punct = PUNCTUATION.find((p) => text.startsWith(p, i));
      if (!punct) throw new ConditionSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
      tokens.push({ kind: "punct", text: punct, pos: i });
      i += punct.length;
    }
  }
  tokens.push({ kind: "eof", text: "", pos: text.length });
  return tokens;
}

/** A Go "..." literal starting at `start`: its value and the offset just past it. */
function readInterpreted(text: string, start: number): [string, number] {
  let value = "";
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') return [value, i + 1];
    if (c === "\n") break;
    if (c !== "\\") {
      value += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    if (e !== undefined && e in GO_ESCAPES) {
      value += GO_ESCAPES[e];
      i += 2;
    } else if (e === "x" || e === "u" || e === "U") {
      const digits = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = text.slice(i + 2, i + 2 + digits);
      if (hex.length !== digits || ![...hex].every(isHexDigit)) {
        throw new ConditionSyntaxError("invalid escape in string literal", i);
      }
      value += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + digits;
    } else {
      throw new ConditionSyntaxError("invalid escape in string literal", i);
    }
  }
  throw new ConditionSyntaxError("string literal not terminated", start);
}

/** Parses a condition into its syntax tree; throws ConditionSyntaxError. */
export function parseSyntax(text: string): Node {
  if (text.trim() === "") throw new ConditionSyntaxError("empty expression", 0);
  return new Parser(tokenize(text)).parseCondition();
}

class Parser {
  #at = 0;

  constructor(private readonly tokens: Token[]) {}

  parseCondition(): Node {
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== "eof") throw new ConditionSyntaxError(`unexpected ${describe(next)}`, next.pos);
    return node;
  }

  #peek(): Token {
    return this.tokens[this.#at];
  }

  #take(): Token {
    return this.tokens[this.#at++];
  }

  #accept(punct: string): Token | undefined {
    const next = this.#peek();
    if (next.kind === "punct" && next.text === punct) return this.#take();
    return undefined;
  }

  #expect(punct: string): Token {
    const token = this.#accept(punct);
    if (!token) {
      const next = this.#peek();
      throw new ConditionSyntaxError(`expected "${punct}", found ${describe(next)}`, next.pos);
    }
    return token;
  }

  #or(): Node {
    let left = this.#and();
    for (let op; (op = this.#accept("||"));) {
      left = { kind: "binary", op: "||", left, right: this.#and(), pos: op.pos };
    }
    return left;
  }

  #and(): Node {
    let left = this.#compare();
    for (let op; (op = this.#accept("&&"));) {
      left = { kind: "binary", op: "&&", left, right: this.#compare(), pos: op.pos };
    }
    return left;
  }

  #compare(): Node {
    const left = this.#unary();
    const op = this.#accept("==") ?? this.#accept("!=");
    if (!op) return left;
    const node: Node = { kind: "binary", op: op.text as BinaryOp, left, right: this.#unary(), pos: op.pos };
    const next = this.#peek();
    if (next.kind === "punct" && (next.text === "==" || next.text === "!=")) {
      throw new ConditionSyntaxError(`comparisons cannot be chained; add parentheses`, next.pos);
    }
    return node;
  }

  #unary(): Node {
    const bang = this.#accept("!");
    if (bang) return { kind: "not", operand: this.#unary(), pos: bang.pos };
    return this.#postfix();
  }

  #postfix(): Node {
    let node = this.#primary();
    while (true) {
      if (this.#accept(".")) {
        const name = this.#take();
        if (name.kind !== "ident") {
          throw new ConditionSyntaxError(`expected a name after ".", found ${describe(name)}`, name.pos);
        }
        node = { kind: "select", target: node, name: name.text, pos: name.pos };
      } else if (this.#accept("[")) {
        const index = this.#or();
        this.#expect("]");
        node = { kind: "index", target: node, index, pos: index.pos };
      } else if (this.#accept("(")) {
        const args: Node[] = [];
        if (!this.#accept(")")) {
          do args.push(this.#or()); while (this.#accept(","));
          this.#expect(")");
        }
        node = { kind: "call", callee: node, args, pos: node.pos };
      } else {
        return node;
      }
    }
  }

  #primary(): Node {
    const token = this.#take();
    switch (token.kind) {
      case "ident":
        return { kind: "ident", name: token.text, pos: token.pos };
      case "string":
        return { kind: "string", value: token.value!, pos: token.pos };
      case "int":
        return { kind: "int", value: Number(token.text), pos: token.pos };
      case "punct":
        if (token.text === "(") {
          const inner = this.#or();
          this.#expect(")");
          return inner;
        }
    }
    throw new ConditionSyntaxError(`unexpected ${describe(token)}`, token.pos);
  }
}

function describe(token: Token): string {
  return token.kind === "eof" ? "end of condition" : `"${token.text}"`;
}
