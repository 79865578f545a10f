/**
 * Service and user lookups are cached with a TTL and coalesced while in flight, so a
 * steady stream of requests does not repeat them; misses are not cached.
 */
import assert from "node:assert/strict";
import type { Clock } from "../../src/backends/pagerduty/mod.ts";
import { clientFor, withDouble } from "../backends/pagerduty/helpers.ts";

/** A clock the test moves by hand; sleeping is instant (no test here relies on it). */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return { now: () => now, sleep: () => Promise.resolve(), advance: (ms) => (now += ms) };
}

Deno.test("a found service is served from the cache, whatever the name's case", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addService({ name: "Teleport Notifications" });
    const first = await client.findServiceByName("Teleport Notifications");
    const second = await client.findServiceByName("teleport notifications");
    assert.deepEqual(second, first);
    assert.equal(pd.countCalls("GET", "/services"), 1);
  }));

Deno.test("concurrent lookups of one service share a single request", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addService({ name: "Teleport Notifications" });
    pd.injectLatency({}, 50);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => client.findServiceByName("Teleport Notifications")),
    );
    assert.ok(results.every((r) => r?.name === "Teleport Notifications"));
    assert.equal(pd.countCalls("GET", "/services"), 1);
  }));

Deno.test("cache entries expire after the TTL", () =>
  withDouble(async (pd) => {
    const clock = manualClock();
    using client = clientFor(pd, {}, { cacheTtlMs: 60_000, clock });
    pd.addUser({ name: "Alice", email: "alice@example.com" });
    await client.findUserByEmail("alice@example.com");
    clock.advance(59_999);
    await client.findUserByEmail("alice@example.com");
    assert.equal(pd.countCalls("GET", "/users"), 1);
    clock.advance(1);
    await client.findUserByEmail("alice@example.com");
    assert.equal(pd.countCalls("GET", "/users"), 2);
  }));

Deno.test("a miss is not cached: a service created afterwards is found", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    assert.equal(await client.findServiceByName("Late"), null);
    pd.addService({ name: "Late" });
    assert.equal((await client.findServiceByName("Late"))?.name, "Late");
    assert.equal(pd.countCalls("GET", "/services"), 2);
  }));

Deno.test("a failed lookup is not cached", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, { retry: { deadlineMs: 0 } });
    pd.addService({ name: "S" });
    pd.inject5xx({ nextN: 1 }, 503);
    await assert.rejects(client.findServiceByName("S"));
    assert.equal((await client.findServiceByName("S"))?.name, "S");
  }));
