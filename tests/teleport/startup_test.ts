/**
 * Startup waits for the Auth Service a bounded time (backoff, each attempt logged), then
 * gives up with one line; TELEPORT_PLUGIN_FAIL_FAST makes the first failure fatal; problems
 * that retrying cannot fix are fatal at once. Time is virtual: the clock's sleep advances it.
 */
import assert from "node:assert/strict";
import {
  pingUntilReachable,
  STARTUP_RETRY_BUDGET_MS,
  TeleportStartupError,
} from "../../src/teleport/startup.ts";
import { IncompatibleVersionError } from "../../src/teleport/errors.ts";
import { startWorld } from "../../src/doubles/world.ts";
import { runPlugin } from "../../src/run.ts";
import { refusedAddr, startHarness } from "./harness.ts";

/** A clock whose sleep runs `onSleep` and then moves time forward by the delay. */
function virtualClock(onSleep: (ms: number) => void | Promise<void> = () => {}) {
  const slept: number[] = [];
  let now = 0;
  return {
    slept,
    now: () => now,
    async sleep(ms: number) {
      slept.push(ms);
      await onSleep(ms);
      now += ms;
    },
  };
}

Deno.test("startup retries with backoff until the Auth Service answers", async () => {
  await using h = await startHarness();
  await h.double.refuseConnections(true);
  const clock = virtualClock(async () => {
    if (clock.slept.length === 2) await h.double.refuseConnections(false);
  });
  const pong = await pingUntilReachable(h.client(), { failFast: false, clock });
  assert.equal(pong.clusterName, h.double.clusterName);
  assert.deepEqual(clock.slept, [1_000, 2_000]);
});

Deno.test("startup gives up after the budget with the cause, the attempts and the time", async () => {
  await using h = await startHarness();
  const addr = refusedAddr();
  const clock = virtualClock();
  const error = await pingUntilReachable(h.client({ addr, dialMode: "direct" }), { failFast: false, clock })
    .catch((e) => e);
  assert.ok(error instanceof TeleportStartupError);
  assert.equal(
    error.message,
    `Cannot reach the Teleport Auth Service at ${addr} (tried direct): connection refused (nothing listens ` +
      `there): ECONNREFUSED; check teleport.addr (gave up after 9 attempts in 55 s)`,
  );
  assert.deepEqual(clock.slept, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000, 10_000]);
  assert.ok(clock.now() <= STARTUP_RETRY_BUDGET_MS);
});

Deno.test("with fail fast the first failure is fatal", async () => {
  await using h = await startHarness();
  const clock = virtualClock();
  const client = h.client({ addr: refusedAddr(), dialMode: "direct" });
  await assert.rejects(
    pingUntilReachable(client, { failFast: true, clock }),
    (error: Error) =>
      error instanceof TeleportStartupError && /FAIL_FAST is set: not retrying\)$/.test(error.message),
  );
  assert.deepEqual(clock.slept, []);
});

Deno.test("a server too old for the plugin is fatal at once, not retried", async () => {
  await using h = await startHarness();
  h.double.ping.unimplemented = true;
  const clock = virtualClock();
  await assert.rejects(pingUntilReachable(h.client(), { failFast: false, clock }), IncompatibleVersionError);
  assert.deepEqual(clock.slept, []);
});

Deno.test("runPlugin with TELEPORT_PLUGIN_FAIL_FAST and no Teleport fails with the one line", async () => {
  await using world = await startWorld();
  const addr = refusedAddr();
  world.config.teleport.addr = addr;
  const previous = Deno.env.get("TELEPORT_PLUGIN_FAIL_FAST");
  Deno.env.set("TELEPORT_PLUGIN_FAIL_FAST", "true");
  try {
    const error = await runPlugin(world.config, { signal: new AbortController().signal }).catch((e) => e);
    assert.ok(error instanceof TeleportStartupError);
    assert.equal(error.name, "TeleportUnreachable");
    assert.match(
      error.message,
      new RegExp(`^Cannot reach the Teleport Auth Service at ${addr} \\(tried direct`),
    );
    assert.doesNotMatch(error.message, /No connection established|Resolution note|\n/);
  } finally {
    if (previous === undefined) Deno.env.delete("TELEPORT_PLUGIN_FAIL_FAST");
    else Deno.env.set("TELEPORT_PLUGIN_FAIL_FAST", previous);
  }
});
