/**
 * The client-side token bucket keeps any burst within the configured rate: in every
 * window of w ms at most `burst + rate·w` requests start. It is also the client's one
 * rate-limit gate: once closed (a 429 said when the limit resets), no call starts
 * before the gate opens, whether it was already waiting or not.
 */
import assert from "node:assert/strict";
import { TokenBucket } from "../../src/http/rate_limiter.ts";
import { clientFor, withDouble } from "../backends/pagerduty/helpers.ts";
import { VirtualClock } from "./virtual_clock.ts";

/** The largest number of timestamps inside any window [t, t + windowMs). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let max = 0;
  for (let lo = 0, hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

Deno.test("a 500-call burst is spread at the configured rate (virtual clock)", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { burst: 10, clock }); // 100 per second
  const starts: number[] = [];
  const all = Promise.all(
    Array.from({ length: 500 }, () => bucket.take().then(() => starts.push(clock.now()))),
  );
  await clock.run();
  await all;

  assert.equal(starts.length, 500);
  assert.equal(starts.filter((t) => t === 0).length, 10, "the burst allowance goes out at once");
  for (const windowMs of [100, 1_000, 60_000]) {
    const bound = 10 + (6_000 / 60_000) * windowMs;
    assert.ok(
      maxInWindow(starts, windowMs) <= bound,
      `window ${windowMs} ms: ${maxInWindow(starts, windowMs)} > ${bound}`,
    );
  }
  assert.equal(Math.round(Math.max(...starts)), 4_900, "490 queued calls at 100/s");
});

Deno.test("the default burst is one second's worth, so a minute never exceeds rate + rate/60", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(960, { clock });
  const starts: number[] = [];
  const all = Promise.all(
    Array.from({ length: 2_000 }, () => bucket.take().then(() => starts.push(clock.now()))),
  );
  await clock.run();
  await all;
  assert.ok(maxInWindow(starts, 60_000) <= 960 + 16);
});

Deno.test("a bucket refills while idle, up to the burst size only", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(60, { burst: 3, clock }); // 1 per second
  for (let i = 0; i < 3; i++) await bucket.take();
  const later = bucket.take().then(() => clock.now());
  await clock.run();
  assert.equal(await later, 1_000);
});

Deno.test("every call of a client waits on the same bucket, whatever the operation", () =>
  withDouble(async (pd) => {
    const clock = new VirtualClock();
    using client = clientFor(pd, { rateLimitPerMinute: 60 }, { rateLimitBurst: 1, clock }); // 1 per second
    const service = pd.addService({ name: "S" });
    const user = pd.addUser({ name: "A", email: "a@example.com" });
    const calls = [
      client.healthCheck(),
      client.onCallPolicies(user.id, [service.escalationPolicyId]),
      client.findIncidentByKey("k"),
    ];
    await clock.whenSleeping(2);
    assert.deepEqual(clock.sleepers, [1_000, 2_000], "one queue for all operations");
    await calls[0];
    assert.equal(pd.requests.length, 1, "the others have not been sent");
    await clock.run();
    await Promise.all(calls);
    assert.equal(pd.requests.length, 3);
  }));

Deno.test("a closed gate holds every caller until it opens: waiting, reserved and new ones", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { burst: 2, clock }); // 100 per second
  const starts: number[] = [];
  const take = () => bucket.take().then(() => starts.push(clock.now()));
  // Two go at once (the burst), the next two reserve tokens due at 10 and 20 ms.
  const early = Promise.all([take(), take(), take(), take()]);
  await clock.whenSleeping(2);
  bucket.closeUntil(2_000);
  assert.equal(bucket.closedUntil, 2_000);
  const late = take(); // arrives while closed
  await clock.run();
  await Promise.all([early, late]);
  assert.deepEqual(starts.slice(0, 2), [0, 0]);
  assert.ok(starts.slice(2).every((t) => t >= 2_000), `started at ${starts}`);
  assert.equal(bucket.closedUntil, 0);
});

Deno.test("the bucket refills while closed, so the gate opens with at most a burst, then paces", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { burst: 5, clock }); // 100 per second
  for (let i = 0; i < 5; i++) await bucket.take();
  bucket.closeUntil(1_000);
  const starts: number[] = [];
  const all = Promise.all(
    Array.from({ length: 8 }, () => bucket.take().then(() => starts.push(clock.now()))),
  );
  await clock.run();
  await all;
  assert.deepEqual(starts.map(Math.round), [1_000, 1_000, 1_000, 1_000, 1_000, 1_010, 1_020, 1_030]);
});

Deno.test("a closing never shortens, and a refusal of a call sent before the last closing is ignored", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { clock });
  const sentBefore = bucket.epoch;
  bucket.closeUntil(2_000, sentBefore);
  bucket.closeUntil(1_000);
  assert.equal(bucket.closedUntil, 2_000, "not shortened");
  // Another call sent before the first closing comes back 429 with a later (rounded) reset.
  bucket.closeUntil(3_000, sentBefore);
  assert.equal(bucket.closedUntil, 2_000, "stale refusal ignored");
  // A call sent since the closing that is refused does extend it.
  bucket.closeUntil(3_000, bucket.epoch);
  assert.equal(bucket.closedUntil, 3_000);
});

Deno.test("remaining 0 closes the gate until the window ends, before any 429", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { clock });
  bucket.observe({ resetInMs: 1_000, remaining: 3, refused: false }, bucket.epoch);
  assert.equal(bucket.closedUntil, 0, "calls left: stays open");
  bucket.observe({ resetInMs: 1_000, remaining: 0, refused: false }, bucket.epoch);
  assert.equal(bucket.closedUntil, 1_000);
});

Deno.test("whole-second resets: the gate opens at the tightest bound seen in the window", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { clock });
  // The window's first answer at t=0 says "1 s" (really ≤ 1 s); at t=300 another says
  // "1 s" again (rounded up from 0.7 s) and nothing is left.
  bucket.observe({ resetInMs: 1_000, remaining: 5, refused: false }, bucket.epoch);
  await clock.advanceTo(300);
  bucket.observe({ resetInMs: 1_000, remaining: 0, refused: false }, bucket.epoch);
  assert.equal(bucket.closedUntil, 1_000, "not 1,300");
  // Once that window is over, a new one is estimated afresh.
  await clock.advanceTo(1_000);
  bucket.observe({ resetInMs: 1_000, remaining: 0, refused: true }, bucket.epoch);
  assert.equal(bucket.closedUntil, 2_000);
});

Deno.test("answers to calls sent before the last closing say nothing about the new window", () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(6_000, { clock });
  const before = bucket.epoch;
  bucket.observe({ resetInMs: 1_000, remaining: 0, refused: true }, before);
  bucket.observe({ resetInMs: 5_000, remaining: 0, refused: true }, before);
  assert.equal(bucket.closedUntil, 1_000);
});

Deno.test("a caller that gives up while waiting leaves its token to the next one", async () => {
  const clock = new VirtualClock();
  const bucket = new TokenBucket(60, { burst: 1, clock }); // 1 per second
  await bucket.take();
  const quitter = new AbortController();
  const gaveUp = bucket.take(quitter.signal).catch(() => "gave up");
  await clock.whenSleeping(1);
  quitter.abort();
  assert.equal(await gaveUp, "gave up");
  const next = bucket.take().then(() => clock.now());
  await clock.run();
  assert.equal(await next, 1_000, "the abandoned reservation for 1,000 ms went to the next caller");
});
