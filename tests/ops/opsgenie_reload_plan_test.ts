/** What a reloaded teleport-opsgenie configuration changes (SIGHUP). */
import assert from "node:assert/strict";
import type { OpsgenieProgramConfig } from "../../src/config/opsgenie.ts";
import { planOpsgenieReload } from "../../src/ops/reload_plan.ts";

const base: OpsgenieProgramConfig = {
  teleport: { addr: "t:3025", identity: "/id", refreshIdentity: false, refreshIdentityInterval: 60_000 },
  opsgenie: {
    api: "opsgenie",
    apiKey: "og-SECRET-key",
    apiEndpoint: "https://api.opsgenie.com",
    defaultSchedules: [],
    defaultTeams: [],
    alertTags: [],
    requestTimeout: 10_000,
    rateLimitPerMinute: 600,
    maxConcurrentRequests: 64,
    autoApproval: "on",
  },
  log: { output: "stderr", severity: "info", format: "text" },
  diag: { addr: "" },
  source: "test",
};

const edit = (change: (c: OpsgenieProgramConfig) => void) => {
  const next = structuredClone(base);
  change(next);
  return planOpsgenieReload(base, next);
};

Deno.test("opsgenie: each kind of change maps to its action, naming keys but never values", () => {
  assert.deepEqual(planOpsgenieReload(base, structuredClone(base)).changed, []);
  const key = edit((c) => c.opsgenie.apiKey = "og-NEW-SECRET");
  assert.ok(key.backend && key.logging, "a new key needs a new client and new log redaction");
  assert.deepEqual(key.changed, ["opsgenie.apiKey"]);
  assert.ok(!JSON.stringify(key).includes("SECRET"));
  assert.ok(edit((c) => c.opsgenie.api = "jsm").backend);
  assert.ok(edit((c) => c.opsgenie.alertTags = ["t"]).backend);
  const routing = edit((c) => c.opsgenie.defaultSchedules = ["Nights"]);
  assert.ok(routing.annotations && !routing.backend);
  assert.ok(edit((c) => c.opsgenie.autoApproval = "dry-run").autoApproval);
  assert.ok(edit((c) => c.teleport.addr = "u:3025").teleport);
});
