import assert from "node:assert/strict";
import { failFastFromEnv } from "../../src/config/env.ts";

const env = (value?: string) => (name: string) => name === "TELEPORT_PLUGIN_FAIL_FAST" ? value : undefined;

Deno.test("TELEPORT_PLUGIN_FAIL_FAST takes Go's boolean spellings and defaults to off", () => {
  for (const on of ["1", "t", "T", "true", "TRUE", "True"]) assert.equal(failFastFromEnv(env(on)), true, on);
  for (const off of ["0", "f", "F", "false", "FALSE", "False", "", undefined]) {
    assert.equal(failFastFromEnv(env(off)), false, String(off));
  }
});

Deno.test("an unparsable TELEPORT_PLUGIN_FAIL_FAST is a startup error naming the variable", () => {
  assert.throws(() => failFastFromEnv(env("yes")), /TELEPORT_PLUGIN_FAIL_FAST: invalid boolean "yes"/);
});
