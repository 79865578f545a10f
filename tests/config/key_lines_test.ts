/** findKeyLines: the line of every key of a TOML document, for value errors (smol-toml gives none). */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { findKeyLines } from "../../src/config/key_lines.ts";

/** Scans `text` (checking first that it is valid TOML) and returns a dotted-path → line lookup. */
function linesOf(text: string): (path: string | string[]) => number | undefined {
  parse(text);
  const lines = findKeyLines(text);
  return (path) => lines.exactLineOf(typeof path === "string" ? path.split(".") : path);
}

Deno.test("keys under [table] headers, including nested and repeated tables", () => {
  const line = linesOf(
    [
      "# comment",
      "top = 1",
      "",
      "[teleport]",
      'addr = "a:3025"',
      "  identity   =   'x'  # trailing comment",
      "[pagerduty.request_annotations]",
      'services = "s"',
      "[pagerduty]",
      'api_key = "k"',
    ].join("\n"),
  );
  assert.equal(line("top"), 2);
  assert.equal(line("teleport"), 4);
  assert.equal(line("teleport.addr"), 5);
  assert.equal(line("teleport.identity"), 6);
  // [pagerduty] is first defined (implicitly) by the sub-table header.
  assert.equal(line("pagerduty"), 7);
  assert.equal(line("pagerduty.request_annotations"), 7);
  assert.equal(line("pagerduty.request_annotations.services"), 8);
  assert.equal(line("pagerduty.api_key"), 10);
  assert.equal(line("teleport.absent"), undefined);
});

Deno.test("dotted keys, quoted keys and whitespace around dots", () => {
  const line = linesOf(
    [
      "[pagerduty]",
      "request_annotations.notify_service = 'n'",
      'request_annotations . "services" = "s"',
      '"dotted.name" = 1',
      "'literal key' = 2",
      '"esc\\u0041ped" = 3',
      "[ log ]",
      "format = 'json'",
    ].join("\n"),
  );
  assert.equal(line("pagerduty.request_annotations"), 2);
  assert.equal(line("pagerduty.request_annotations.notify_service"), 2);
  assert.equal(line("pagerduty.request_annotations.services"), 3);
  assert.equal(line(["pagerduty", "dotted.name"]), 4);
  assert.equal(line(["pagerduty", "literal key"]), 5);
  assert.equal(line(["pagerduty", "escAped"]), 6);
  assert.equal(line("log.format"), 8);
});

Deno.test("inline tables, on one line and nested", () => {
  const line = linesOf(
    [
      "[pagerduty]",
      'request_annotations = { notify_service = "n", services = "s" }',
      "x = { a = { b = 1 }, c.d = [1, 2] }",
      "y = 3",
    ].join("\n"),
  );
  assert.equal(line("pagerduty.request_annotations"), 2);
  assert.equal(line("pagerduty.request_annotations.services"), 2);
  assert.equal(line("pagerduty.x.a.b"), 3);
  assert.equal(line("pagerduty.x.c.d"), 3);
  assert.equal(line("pagerduty.y"), 4);
});

Deno.test("text inside strings, multi-line strings and arrays is never taken for a key", () => {
  const line = linesOf(
    [
      "[a]",
      'basic = "not = a key # nor a comment"',
      'multi = """',
      "fake = 1",
      "[fake]",
      'still "" inside \\"""',
      'ends here"""',
      "lit = '''",
      "other = 2",
      "'''",
      "list = [",
      "  'x = 1', # comment with = and [brackets]",
      '  "[y]",',
      "  [1, 2],",
      "]",
      "date = 1979-05-27 07:32:00Z",
      "after = true",
    ].join("\r\n"),
  );
  assert.equal(line("a.basic"), 2);
  assert.equal(line("a.multi"), 3);
  assert.equal(line("a.fake"), undefined);
  assert.equal(line("fake"), undefined);
  assert.equal(line("a.lit"), 8);
  assert.equal(line("a.other"), undefined);
  assert.equal(line("a.list"), 11);
  assert.equal(line("y"), undefined);
  assert.equal(line("a.date"), 16);
  assert.equal(line("a.after"), 17);
});

Deno.test("arrays of tables keep the line of their first definition", () => {
  const line = linesOf(
    ["[[items]]", "name = 'one'", "[[items]]", "name = 'two'", "[end]", "k = 1"].join("\n"),
  );
  assert.equal(line("items"), 1);
  assert.equal(line("items.name"), 2);
  assert.equal(line("end.k"), 6);
});

Deno.test("lineOf falls back to the closest enclosing table that is written", () => {
  const lines = findKeyLines("[teleport]\naddr = 'x'\n\n[pagerduty]\nuser_email = 'a@b.co'\n");
  assert.equal(lines.lineOf(["pagerduty", "api_key"]), 4);
  assert.equal(lines.lineOf(["log", "format"]), undefined);
});
