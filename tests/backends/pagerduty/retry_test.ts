/**
 * Retries: 429s wait as long as PagerDuty asks (Retry-After, else ratelimit-reset);
 * 5xx and broken connections back off with jitter; all within the operation deadline,
 * and never at the cost of a duplicate incident.
 */
import assert from "node:assert/strict";
import { PagerDutyServerError } from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, incidentInput, withDouble } from "./helpers.ts";

Deno.test("429s on POST /incidents are retried and end in exactly one incident", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    pd.inject429({ nextN: 3, method: "POST" });
    const incident = await client.createIncident(incidentInput(service.id, "r1"));
    assert.equal(pd.incidents().length, 1);
    assert.equal(pd.incidents()[0].id, incident.id);
    assert.equal(pd.countCalls("POST", "/incidents"), 4);
    // A 429 is a refusal, so no lookup is needed before re-sending.
    assert.equal(pd.countCalls("GET", "/incidents"), 0);
  }));

Deno.test("5xx on POST /incidents: the key is looked up before re-sending, ending in one incident", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    pd.inject5xx({ nextN: 2, method: "POST" }, 503);
    await client.createIncident(incidentInput(service.id, "r1"));
    assert.equal(pd.incidents().length, 1);
    assert.equal(pd.countCalls("POST", "/incidents"), 3);
    assert.equal(pd.countCalls("GET", "/incidents"), 2);
  }));

Deno.test("connection resets are retried like 5xx", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    pd.injectConnectionReset({ nextN: 2 });
    const found = await client.findServiceByName("S");
    assert.equal(found?.id, service.id);
    assert.equal(pd.countCalls("GET", "/services"), 3);
  }));

Deno.test("notes and resolves are retried through 500s", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    const incident = await client.createIncident(incidentInput(service.id, "r1"));
    pd.inject5xx({ nextN: 2 });
    await client.addNote(incident.id, "note");
    pd.inject5xx({ nextN: 2 });
    await client.resolveIncident(incident.id);
    assert.equal(pd.notes(incident.id).length, 1);
    assert.equal(pd.incidents()[0].status, "resolved");
  }));

Deno.test("Retry-After and ratelimit-reset (seconds) set the wait before the next attempt", async () => {
  const gapAfter429 = (headers: { retryAfterSeconds?: number; rateLimitResetSeconds?: number }) =>
    withDouble(async (pd) => {
      using client = clientFor(pd);
      pd.inject429({ nextN: 1 }, headers);
      await client.healthCheck();
      const [first, second] = pd.requests;
      assert.ok(
        second.at - first.at >= 990,
        `waited ${second.at - first.at} ms for ${JSON.stringify(headers)}`,
      );
    });
  await Promise.all([
    gapAfter429({ retryAfterSeconds: 1 }),
    gapAfter429({ rateLimitResetSeconds: 1 }),
    // Retry-After wins when both are present.
    gapAfter429({ retryAfterSeconds: 1, rateLimitResetSeconds: 0 }),
  ]);
});

Deno.test("a server-requested wait beyond the deadline fails at once instead of sleeping", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, { retry: { deadlineMs: 1_000 } });
    pd.inject429({}, { retryAfterSeconds: 30 });
    const started = performance.now();
    await assert.rejects(client.healthCheck(), /HTTP 429/);
    assert.ok(performance.now() - started < 500);
    assert.equal(pd.requests.length, 1);
  }));

Deno.test("backoff is bounded by the operation deadline", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, { retry: { deadlineMs: 300, baseDelayMs: 10, maxDelayMs: 50 } });
    pd.inject5xx({});
    const started = performance.now();
    await assert.rejects(client.healthCheck(), PagerDutyServerError);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 600, `took ${elapsed} ms`);
    assert.ok(pd.requests.length >= 3, `only ${pd.requests.length} attempts`);
  }));

Deno.test("the double's server-side rate limit is absorbed by retries", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addService({ name: "S" });
    pd.setServerRateLimit({ limit: 5, windowMs: 200 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.findUserByEmail(`u${i}@example.com`)));
    assert.equal(pd.requests.filter((r) => r.status === 429).length, 3);
    assert.equal(pd.requests.filter((r) => r.status === 200).length, 8);
  }));
