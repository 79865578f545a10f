import assert from "node:assert/strict";
import type { LoadedConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { testConfig } from "../config/helpers.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { ConfigReloader } from "../../src/ops/reload.ts";

const config = (userEmail: string) => testConfig({ userEmail });

/** A loader returning whatever the test queues, and counting its calls. */
function scriptedLoader() {
  const queue: Array<Config | Error> = [];
  let calls = 0;
  return {
    queue,
    get calls() {
      return calls;
    },
    load: (): Promise<LoadedConfig> => {
      calls++;
      const next = queue.shift();
      if (!next) return Promise.reject(new Error("nothing queued"));
      return next instanceof Error ? Promise.reject(next) : Promise.resolve({ config: next, warnings: [] });
    },
  };
}

/** A reloader over a scripted loader, starting from a@x. */
function scripted() {
  const loader = scriptedLoader();
  const reloader = new ConfigReloader({
    path: "/etc/plugin.toml",
    initial: config("a@x"),
    load: loader.load,
  });
  return { loader, reloader };
}

Deno.test("a valid file goes through every applier in order, then becomes current", async () => {
  const { loader, reloader } = scripted();
  const applied: string[] = [];
  reloader.onApply((next, previous) =>
    void applied.push(`log ${previous.pagerduty.userEmail}>${next.pagerduty.userEmail}`)
  );
  reloader.onApply((next) => void applied.push(`plugin ${next.pagerduty.userEmail}`));
  loader.queue.push(config("b@x"));
  const outcome = await reloader.reload();
  assert.equal(outcome.result, "ok");
  assert.deepEqual(applied, ["log a@x>b@x", "plugin b@x"]);
  assert.equal(reloader.current.pagerduty.userEmail, "b@x");
  assert.equal(reloader.status().status, "healthy");
});

Deno.test("an invalid file keeps the running configuration and nothing is applied", async () => {
  const { loader, reloader } = scripted();
  reloader.onApply(() => assert.fail("must not apply"));
  const outcomes: string[] = [];
  reloader.observe((o) => outcomes.push(o.result));
  loader.queue.push(
    new ConfigError("/etc/plugin.toml", [{ keyPath: "pagerduty.user_email", detail: "bad" }]),
  );
  const outcome = await reloader.reload();
  assert.equal(outcome.result, "invalid");
  assert.match(outcome.error!, /^\/etc\/plugin\.toml: pagerduty\.user_email: bad$/);
  assert.equal(reloader.current.pagerduty.userEmail, "a@x");
  assert.deepEqual(outcomes, ["invalid"]);
  const status = reloader.status();
  assert.equal(status.status, "degraded");
  assert.match(status.reason!, /previous configuration is still running/);
});

Deno.test("an applier that throws leaves the previous configuration current", async () => {
  const { loader, reloader } = scripted();
  reloader.onApply(() => {
    throw new Error("cannot open log file");
  });
  loader.queue.push(config("b@x"));
  const outcome = await reloader.reload();
  assert.deepEqual([outcome.result, outcome.error], ["failed", "cannot open log file"]);
  assert.equal(reloader.current.pagerduty.userEmail, "a@x");
});

Deno.test("an identical file is 'unchanged' and applies nothing", async () => {
  const { loader, reloader } = scripted();
  reloader.onApply(() => assert.fail("must not apply"));
  loader.queue.push(config("a@x"));
  assert.equal((await reloader.reload()).result, "unchanged");
});

Deno.test("signals during a reload coalesce into one more reload, never overlapping", async () => {
  const { loader, reloader } = scripted();
  let active = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const seen: string[] = [];
  reloader.onApply(async (next) => {
    active++;
    assert.equal(active, 1, "applies overlap");
    seen.push(next.pagerduty.userEmail);
    if (seen.length === 1) await gate;
    active--;
  });
  loader.queue.push(config("b@x"), config("c@x"));
  const first = reloader.reload();
  const second = reloader.reload();
  const third = reloader.reload();
  release();
  const outcomes = await Promise.all([first, second, third]);
  assert.deepEqual(seen, ["b@x", "c@x"]);
  assert.equal(loader.calls, 2);
  assert.ok(outcomes.every((o) => o.result === "ok"));
  assert.equal(reloader.current.pagerduty.userEmail, "c@x");
});

Deno.test("a configuration read from standard input cannot be reloaded", async () => {
  const reloader = new ConfigReloader({
    path: "-",
    initial: config("a@x"),
    load: () => assert.fail("no load"),
  });
  const outcome = await reloader.reload();
  assert.equal(outcome.result, "invalid");
  assert.match(outcome.error!, /standard input/);
});
