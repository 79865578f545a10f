import assert from "node:assert/strict";
import { lineOfKey } from "../../src/config/locate.ts";

const TOML = `# a comment with user_email = "x"
[teleport]
addr = "a:1"

[pagerduty]
api_key = "k#not-a-comment"
USER_EMAIL = "me"   # trailing comment
[pagerduty.request_annotations]
services = "s"
[log]
log.severity = "nested"
`;

Deno.test("finds keys under their table, case-insensitively, skipping comments", () => {
  assert.equal(lineOfKey(TOML, "teleport.addr"), 3);
  assert.equal(lineOfKey(TOML, "pagerduty.user_email"), 7);
  assert.equal(lineOfKey(TOML, "pagerduty.request_annotations.services"), 9);
  assert.equal(lineOfKey(TOML, "pagerduty.request_annotations"), 8);
  assert.equal(lineOfKey(TOML, "log.log.severity"), 11);
  assert.equal(lineOfKey(TOML, "pagerduty.services"), undefined);
  assert.equal(lineOfKey(TOML, "diag.addr"), undefined);
});

Deno.test("dotted and quoted keys", () => {
  assert.equal(lineOfKey(`pagerduty.user_email = "x"\n`, "pagerduty.user_email"), 1);
  assert.equal(lineOfKey(`[pagerduty]\n"user_email" = "x"\n`, "pagerduty.user_email"), 2);
});
