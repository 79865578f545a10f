/**
 * The condition grammar: Go expression precedence (|| below && below ==/!= below !),
 * selectors, indexing, calls, Go string literals, and one clear error with a column
 * for anything else.
 */
import assert from "node:assert/strict";
import { ConditionSyntaxError, type Node, parseSyntax } from "../../src/rules/syntax.ts";

/** A compact rendering of a tree, to compare shapes without positions. */
function show(node: Node): string {
  switch (node.kind) {
    case "string":
      return JSON.stringify(node.value);
    case "int":
      return String(node.value);
    case "ident":
      return node.name;
    case "select":
      return `${show(node.target)}.${node.name}`;
    case "index":
      return `${show(node.target)}[${show(node.index)}]`;
    case "call":
      return `${show(node.callee)}(${node.args.map(show).join(", ")})`;
    case "not":
      return `!(${show(node.operand)})`;
    case "binary":
      return `(${show(node.left)} ${node.op} ${show(node.right)})`;
  }
}

const parsesAs = (text: string, expected: string) => assert.equal(show(parseSyntax(text)), expected, text);

function rejects(text: string, message: string, column: number): void {
  assert.throws(() => parseSyntax(text), (error: unknown) => {
    assert.ok(error instanceof ConditionSyntaxError, `${text}: ${error}`);
    assert.equal(error.pos + 1, column, `${text}: ${error.message}`);
    assert.match(error.message, new RegExp(message));
    return true;
  });
}

Deno.test("&& binds tighter than ||, and both associate to the left", () => {
  parsesAs("a || b && c", "(a || (b && c))");
  parsesAs("a && b || c", "((a && b) || c)");
  parsesAs("a || b || c", "((a || b) || c)");
  parsesAs("a && b && c", "((a && b) && c)");
});

Deno.test("comparisons bind tighter than && and looser than !", () => {
  parsesAs('a == "x" && b != "y"', '((a == "x") && (b != "y"))');
  parsesAs("!a == b", "(!(a) == b)");
  parsesAs("!!a", "!(!(a))");
});

Deno.test("parentheses override precedence", () => {
  parsesAs("(a || b) && c", "((a || b) && c)");
  parsesAs("!(a && b)", "!((a && b))");
});

Deno.test("selectors, indexing and calls chain left to right", () => {
  parsesAs("access_request.spec.roles", "access_request.spec.roles");
  parsesAs('user.traits["team"].contains("x")', 'user.traits["team"].contains("x")');
  parsesAs('set("a", "b").add("c").isempty()', 'set("a", "b").add("c").isempty()');
  parsesAs("f()", "f()");
  parsesAs("m[k][j]", "m[k][j]");
});

Deno.test("Go string literals: escapes in double quotes, raw in backquotes", () => {
  parsesAs('"a\\"b\\n\\t\\\\"', JSON.stringify('a"b\n\t\\'));
  parsesAs('"\\x41\\u00e9"', JSON.stringify("Aé"));
  parsesAs("`raw \\n stays`", JSON.stringify("raw \\n stays"));
  parsesAs("42", "42");
});

Deno.test("whitespace and newlines are insignificant", () => {
  parsesAs('  a\n&&\tb  (  "x" , "y" ) ', '(a && b("x", "y"))');
});

Deno.test("malformed conditions fail with the column of the problem", () => {
  rejects("", "empty expression", 1);
  rejects("   ", "empty expression", 1);
  rejects("a &&", "unexpected end of condition", 5);
  rejects("a & b", "unexpected character", 3);
  rejects("a | b", "unexpected character", 3);
  rejects("(a", 'expected "\\)"', 3);
  rejects("a)", 'unexpected "\\)"', 2);
  rejects('f("a" "b")', 'expected "\\)"', 7);
  rejects('"open', "string literal not terminated", 1);
  rejects("`open", "raw string literal not terminated", 1);
  rejects('"bad \\q"', "invalid escape", 6);
  rejects("a.", "expected a name", 3);
  rejects("a.1", "expected a name", 3);
  rejects("1.5", "only decimal integer", 1);
  rejects("a == b == c", "cannot be chained", 8);
  rejects("a < b", "unexpected character", 3);
  rejects("'c'", "unexpected character", 1);
});
