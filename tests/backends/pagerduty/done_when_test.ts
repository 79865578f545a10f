/**
 * The acceptance checks: a steady stream of notify-only requests costs one
 * POST /incidents each once the service is cached, and a PagerDuty that rate-limits
 * every third call still gets exactly one incident per request and a clean contract.
 */
import assert from "node:assert/strict";
import type { PagerDutyClient } from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, pool, withDouble } from "./helpers.ts";

/** What the core does for a notify-only request: resolve the service, open the incident. */
async function notify(client: PagerDutyClient, requestId: string): Promise<void> {
  const service = await client.findServiceByName("Teleport Notifications");
  assert.ok(service);
  await client.createIncident({
    serviceId: service.id,
    requestId,
    title: "Access request from alice@example.com",
    details: `alice@example.com requested permissions for roles editor (${requestId})\n`,
  });
}

Deno.test("1,000 notify-only requests cost 1,000 POST /incidents plus one service lookup", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addService({ name: "Teleport Notifications" });
    for (let i = 0; i < 30; i++) pd.addService({ name: `Teleport Notifications ${i}` });

    await pool(1_000, 32, (i) => notify(client, `req-${i}`));

    assert.equal(pd.countCalls("POST", "/incidents"), 1_000);
    assert.equal(pd.countCalls("GET", "/services"), 1);
    assert.equal(pd.requests.length, 1_001);
    assert.equal(new Set(pd.incidents().map((i) => i.incidentKey)).size, 1_000);
    assert.deepEqual(pd.violations, []);
  }));

Deno.test("429 on every third call: exactly one incident per request, zero contract violations", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addService({ name: "Teleport Notifications" });
    pd.inject429({ everyNth: 3 }, { rateLimitResetSeconds: 0 });

    await pool(300, 16, (i) => notify(client, `req-${i}`));

    const incidents = pd.incidents();
    assert.equal(incidents.length, 300);
    const keys = incidents.map((i) => i.incidentKey).sort();
    assert.deepEqual(keys, Array.from({ length: 300 }, (_, i) => `teleport-access-request/req-${i}`).sort());
    assert.ok(pd.requests.filter((r) => r.status === 429).length >= 100);
    assert.deepEqual(pd.violations, []);
  }));
