/** Finding a key's line in TOML text, for error messages. */
import assert from "node:assert/strict";
import { lineOfKey } from "../../src/config/locate.ts";

const TEXT = `# comment
[teleport]
addr = "x:1"   # trailing comment

[opsgenie]
api_key = "k"
default_schedules = ["a", 1]
PRIORITY = "P9"
`;

Deno.test("a key's line, a table's line, and the nearest key of a path into a value", () => {
  assert.equal(lineOfKey(TEXT, "teleport.addr"), 3);
  assert.equal(lineOfKey(TEXT, "opsgenie"), 5);
  assert.equal(lineOfKey(TEXT, "opsgenie.default_schedules.1"), 7);
  assert.equal(lineOfKey(TEXT, "opsgenie.priority"), 8, "keys match case-insensitively, as the loader does");
});

Deno.test("a key that is not written has no line", () => {
  assert.equal(lineOfKey(TEXT, "opsgenie.api_endpoint"), 5, "falls back to its table");
  assert.equal(lineOfKey(TEXT, "log.severity"), undefined);
  assert.equal(lineOfKey("", "opsgenie.api_key"), undefined);
});
