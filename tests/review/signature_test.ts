/** X-PagerDuty-Signature and custom action secrets (PagerDuty's V3 signature rules). */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { checkWebhookSignature, secretsEqual } from "../../src/review/signature.ts";

const SECRET = "ChangeMe";
const BODY = new TextEncoder().encode('{"event":{"id":"01ABC"}}');
const sign = (secret: string, body = BODY) => createHmac("sha256", secret).update(body).digest("hex");

Deno.test("any one of several v1 signatures may match (secret rotation)", () => {
  assert.equal(checkWebhookSignature(SECRET, BODY, `v1=${sign(SECRET)}`), "valid");
  assert.equal(checkWebhookSignature(SECRET, BODY, `v1=${sign("old")},v1=${sign(SECRET)}`), "valid");
  assert.equal(checkWebhookSignature(SECRET, BODY, `v1=${sign(SECRET).toUpperCase()}`), "valid");
  assert.equal(checkWebhookSignature(SECRET, BODY, `v0=abc, v1=${sign(SECRET)}`), "valid");
});

Deno.test("signatures over other bytes or with other secrets do not match", () => {
  assert.equal(checkWebhookSignature(SECRET, BODY, `v1=${sign("other")}`), "mismatch");
  const altered = new TextEncoder().encode('{"event":{"id":"01ABD"}}');
  assert.equal(checkWebhookSignature(SECRET, altered, `v1=${sign(SECRET)}`), "mismatch");
});

Deno.test("missing and malformed headers are told apart from mismatches", () => {
  assert.equal(checkWebhookSignature(SECRET, BODY, null), "missing");
  assert.equal(checkWebhookSignature(SECRET, BODY, " "), "missing");
  assert.equal(checkWebhookSignature(SECRET, BODY, "sha256=abc"), "malformed");
  assert.equal(checkWebhookSignature(SECRET, BODY, "v1=xyz"), "malformed");
  assert.equal(checkWebhookSignature(SECRET, BODY, `v1=${sign(SECRET).slice(2)}`), "malformed");
});

Deno.test("secret comparison: equal only when identical, any lengths", () => {
  assert.equal(secretsEqual("s3cret-value-123456", "s3cret-value-123456"), true);
  assert.equal(secretsEqual("s3cret-value-123457", "s3cret-value-123456"), false);
  assert.equal(secretsEqual("s3cret", "s3cret-value-123456"), false);
  assert.equal(secretsEqual("", "s3cret-value-123456"), false);
});
