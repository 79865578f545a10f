/** Redelivery memory and per-source flood control of the review listener. */
import assert from "node:assert/strict";
import { DeliveryLog } from "../../src/review/dedupe.ts";
import { SourceRateLimiter } from "../../src/review/source_limiter.ts";

Deno.test("a delivery is new once within the window; any shared id makes it a repeat", () => {
  let now = 0;
  const log = new DeliveryLog({ windowMs: 1_000, now: () => now });
  assert.equal(log.firstSighting(["webhook:1", "event:A"]), true);
  assert.equal(log.firstSighting(["webhook:2", "event:A"]), false);
  assert.equal(log.firstSighting(["webhook:1", "event:B"]), false);
  now = 1_001;
  assert.equal(log.firstSighting(["webhook:1", "event:A"]), true, "forgotten after the window");
});

Deno.test("memory is bounded: the oldest ids go first", () => {
  const log = new DeliveryLog({ maxIds: 3, now: () => 0 });
  for (const id of ["a", "b", "c", "d"]) assert.equal(log.firstSighting([id]), true);
  assert.equal(log.size, 3);
  assert.equal(log.firstSighting(["d"]), false);
  assert.equal(log.firstSighting(["a"]), true);
});

Deno.test("each source has its own bucket; an empty bucket refuses until it refills", () => {
  let now = 0;
  const limiter = new SourceRateLimiter({ perMinute: 60, burst: 2, maxSources: 10 }, () => now);
  assert.deepEqual([limiter.allow("a"), limiter.allow("a"), limiter.allow("a")], [true, true, false]);
  assert.equal(limiter.allow("b"), true);
  assert.equal(limiter.retryAfterSeconds("a"), 1);
  now = 1_000;
  assert.equal(limiter.allow("a"), true);
});

Deno.test("the table of sources is bounded", () => {
  const limiter = new SourceRateLimiter({ perMinute: 60, burst: 1, maxSources: 2 }, () => 0);
  assert.equal(limiter.allow("a"), true);
  assert.equal(limiter.allow("b"), true);
  assert.equal(limiter.allow("c"), true);
  // "a" was forgotten, so it starts with a full bucket again; "c" is remembered.
  assert.equal(limiter.allow("a"), true);
  assert.equal(limiter.allow("c"), false);
});
