import assert from "node:assert/strict";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";
import { KNOWN_KEYS } from "../../src/config/keys.ts";
import { loadConfig } from "../../src/config/load.ts";
import { filledExample } from "./helpers.ts";
import { tempDir } from "../fakes/temp_dir.ts";

Deno.test("the example is valid once credentials are filled in, without warnings", async () => {
  await using dir = await tempDir("config-example-test-");
  await Deno.writeTextFile(`${dir.path}/c.toml`, filledExample(), { mode: 0o600 });
  const { config, warnings } = await loadConfig(`${dir.path}/c.toml`);
  assert.deepEqual(warnings, []);
  assert.equal(config.teleport.addr, "example.com:3025");
  assert.equal(config.teleport.clientKey, "/var/lib/teleport/plugins/pagerduty/auth.key");
  assert.equal(config.pagerduty.userEmail, "me@example.com");
  assert.deepEqual(config.log, { output: "stderr", severity: "info", format: "text" });
});

Deno.test("the example documents every key", () => {
  const leaves = (tree: typeof KNOWN_KEYS): string[] =>
    Object.entries(tree).flatMap(([k, sub]) => sub === null ? [k] : [k, ...leaves(sub)]);
  for (const key of leaves(KNOWN_KEYS)) {
    // auth_server is deprecated: documenting it would invite its use.
    if (key === "auth_server") continue;
    assert.match(EXAMPLE_CONFIG, new RegExp(`^#? ?(\\[.*)?${key}\\b`, "m"), key);
  }
});

Deno.test("the example keeps upstream's section order", () => {
  const sections = [...EXAMPLE_CONFIG.matchAll(/^\[(\w+)\]$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, ["teleport", "pagerduty", "log"]);
});
