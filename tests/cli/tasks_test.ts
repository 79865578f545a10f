/**
 * The deno.json tasks an operator runs from a checkout (`deno task cli …`, `deno task start`):
 * they run the real CLI under the plugin permission set and print nothing but the CLI's own output
 * (no Deno notice such as the config-permissions one).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { DENO, ROOT, run } from "../release/helpers.ts";

const TASKS: Record<string, string> = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks;

/** `deno task --quiet <args>` in the checkout (--quiet drops deno task's own "Task …" echo). */
const task = (...args: string[]) =>
  run(DENO, ["task", "--quiet", ...args], { cwd: ROOT, env: { NO_COLOR: "1" } });

Deno.test("`start` is the `cli` task with the start command, under the plugin permission set", () => {
  assert.equal(TASKS.start, `${TASKS.cli} start`);
  assert.match(TASKS.cli, /^deno run --quiet -P=plugin --v8-flags=\S+ src\/main\.ts$/);
});

Deno.test("`deno task cli version` and `deno task cli configure` print only their output", async () => {
  const version = await task("cli", "version");
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^teleport-pagerduty v\S+ git:\S+ deno \S+ \(source\)\n$/);
  assert.equal(version.stderr, "");

  const configure = await task("cli", "configure");
  assert.equal(configure.code, 0, configure.stderr);
  assert.equal(configure.stdout, EXAMPLE_CONFIG);
  assert.equal(configure.stderr, "");
});

Deno.test("`deno task start` with a missing config prints one line naming the file, and no Deno notice", async () => {
  const res = await task("start", "-c", "/nonexistent/teleport-pagerduty.toml");
  assert.equal(res.code, 1);
  assert.equal(res.stdout, "");
  assert.deepEqual(res.stderr.trim().split("\n").length, 1, res.stderr);
  assert.match(res.stderr, /\/nonexistent\/teleport-pagerduty\.toml/);
  assert.doesNotMatch(res.stderr, /Warning|experimental/);
});
