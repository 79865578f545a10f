/**
 * The client-side token bucket keeps any burst within the configured rate: in every
 * window of w ms at most `burst + rate·w` requests start.
 */
import assert from "node:assert/strict";
import type { Clock } from "../../src/backends/pagerduty/mod.ts";
import { TokenBucket } from "../../src/http/rate_limiter.ts";
import { clientFor, pool, withDouble } from "../backends/pagerduty/helpers.ts";

/** Virtual time: sleeps are queued and fired in time order by `run()`. */
class VirtualClock implements Clock {
  #now = 0;
  #timers: { at: number; fire: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((fire) => this.#timers.push({ at: this.#now + ms, fire }));
  }

  /** Fires timers in order, letting woken tasks run (and queue more) in between. */
  async run(): Promise<void> {
    await flush();
    while (this.#timers.length) {
      this.#timers.sort((a, b) => a.at - b.at);
      const timer = this.#timers.shift()!;
      this.#now = Math.max(this.#now, timer.at);
      timer.fire();
      await flush();
    }
  }
}

/** Lets promise chains woken by a timer run to completion (they only use microtasks). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

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

Deno.test("the limiter is shared by every call of a client (measured at the double)", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, { rateLimitPerMinute: 6_000 }, { rateLimitBurst: 10 }); // 100/s
    const service = pd.addService({ name: "S" });
    const user = pd.addUser({ name: "A", email: "a@example.com" });
    // Open the connections first, so connection setup does not bunch arrivals together,
    // then let the bucket refill.
    await pool(40, 40, () => client.healthCheck());
    await new Promise((resolve) => setTimeout(resolve, 150));
    const warmUp = pd.requests.length;

    await pool(120, 40, async (i) => {
      if (i % 3 === 0) await client.onCallPolicies(user.id, [service.escalationPolicyId]);
      else if (i % 3 === 1) await client.healthCheck();
      else await client.findIncidentByKey(`k${i}`);
    });
    const arrivals = pd.requests.slice(warmUp).map((r) => r.at);
    assert.equal(arrivals.length, 120);
    // 10 + 100/s · 200 ms = 30, plus slack for scheduling jitter between client and server.
    const peak = maxInWindow(arrivals, 200);
    assert.ok(peak <= 34, `peak of ${peak} requests in 200 ms`);
  }));
