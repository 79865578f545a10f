import assert from "node:assert/strict";
import type { Config } from "../../src/config/types.ts";
import { planReload } from "../../src/ops/reload_plan.ts";
import { testConfig } from "../config/helpers.ts";

const base = testConfig();
const edit = (change: (c: Config) => void): Config => {
  const next = structuredClone(base);
  change(next);
  return next;
};

Deno.test("nothing changed: nothing to do", () => {
  const plan = planReload(base, structuredClone(base));
  assert.deepEqual(plan.changed, []);
  assert.ok(!plan.logging && !plan.backend && !plan.annotations && !plan.teleport && !plan.autoApproval);
});

Deno.test("each kind of change maps to its action, naming keys but never values", () => {
  const key = planReload(base, edit((c) => c.pagerduty.apiKey = "new-SECRET"));
  assert.deepEqual([key.backend, key.logging, key.teleport], [true, true, false]);
  assert.deepEqual(key.changed, ["pagerduty.apiKey"]);
  assert.ok(!JSON.stringify(key).includes("new-SECRET"));

  assert.ok(planReload(base, edit((c) => c.pagerduty.rateLimitPerMinute = 10)).backend);
  assert.ok(planReload(base, edit((c) => c.pagerduty.requestTimeout = 1)).backend);
  assert.ok(planReload(base, edit((c) => c.log.severity = "debug")).logging);
  const annotations = planReload(base, edit((c) => c.pagerduty.requestAnnotations.services = "x"));
  assert.deepEqual([annotations.annotations, annotations.backend], [true, false]);
  assert.ok(planReload(base, edit((c) => c.pagerduty.autoApproval = "dry-run")).autoApproval);
  const teleport = planReload(base, edit((c) => c.teleport.addr = "other:3025"));
  assert.deepEqual([teleport.teleport, teleport.backend], [true, false]);
  assert.ok(planReload(base, edit((c) => c.teleport.identity = "/new")).teleport);
  assert.ok(planReload(base, edit((c) => c.diag.addr = "127.0.0.1:3001")).diagRestartNeeded);
});
