/** Texts sent to Opsgenie: upstream's wording, within Opsgenie's documented limits. */
import assert from "node:assert/strict";
import {
  alertAlias,
  alertMessage,
  alertTags,
  approvalReason,
  LIMITS,
  noteText,
} from "../../../src/backends/opsgenie/mod.ts";

Deno.test("alias is teleport-access-request/<request id>, at most 512 characters", () => {
  assert.equal(alertAlias("abc"), "teleport-access-request/abc");
  assert.equal([...alertAlias("x".repeat(1000))].length, LIMITS.alias);
});

Deno.test("message is upstream's, cut to 130 characters without splitting a character", () => {
  assert.equal(alertMessage("alice"), "Access request from alice");
  const long = alertMessage("😀".repeat(200));
  assert.equal([...long].length, 130);
  assert.equal(new TextDecoder().decode(new TextEncoder().encode(long)), long);
});

Deno.test("tags: at most 20, each at most 50 characters, blanks and duplicates dropped", () => {
  assert.deepEqual(alertTags([" a ", "a", "", "b"]), ["a", "b"]);
  const tags = alertTags(Array.from({ length: 25 }, (_, i) => `${i}`.padEnd(60, "x")));
  assert.equal(tags.length, 20);
  assert.ok(tags.every((t) => [...t].length === 50));
});

Deno.test("the approval reason names the requester (upstream printed a constant)", () => {
  assert.equal(
    approvalReason("alice@example.com", ["A", "B"]),
    "Access requested by user alice@example.com who is on call on schedule(s) A, B",
  );
});

Deno.test("resolution note is upstream's template C", () => {
  assert.equal(
    noteText({ kind: "resolution", resolution: { tag: "denied", reason: "not okay" } }),
    "Access request has been denied\nReason: not okay",
  );
});
