import assert from "node:assert/strict";
import { approvalReason, isBareEmail } from "../../../src/backends/pagerduty/approval.ts";
import { isAlreadyReviewed } from "../../../src/teleport/client.ts";

Deno.test("a requester name must be a bare email address to be matched", () => {
  for (const ok of ["alice@example.com", "a.b+c@sub.example.org", "x@localhost"]) {
    assert.ok(isBareEmail(ok), ok);
  }
  for (
    const bad of [
      "alice",
      "Alice <alice@example.com>",
      "alice@",
      "@example.com",
      "a b@example.com",
      "alice@@example.com",
      ".alice@example.com",
      "alice@example..com",
      "",
    ]
  ) assert.ok(!isBareEmail(bad), bad);
});

Deno.test("the approval reason names the user and the services", () => {
  assert.equal(
    approvalReason("Test User", "test@example.com", ["Service 1", "Service 2"]),
    "Access requested by user Test User (test@example.com) who is on call in service(s) Service 1,Service 2",
  );
});

Deno.test("Teleport's duplicate-review answer is recognised", () => {
  assert.ok(isAlreadyReviewed('user "plugin" has already reviewed this request'));
  assert.ok(!isAlreadyReviewed("the access request has been already approved"));
});
