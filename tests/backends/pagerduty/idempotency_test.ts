/**
 * createIncident is idempotent per access request: the incident key
 * `teleport-access-request/<id>` is the idempotency key, whether PagerDuty rejects a
 * duplicate or an earlier attempt's outcome is unknown.
 */
import assert from "node:assert/strict";
import { incidentKey, PagerDutyClient } from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, incidentInput, withDouble } from "./helpers.ts";

Deno.test("a duplicate incident key returns the existing open incident", () =>
  withDouble(async (pd) => {
    using first = clientFor(pd);
    using second = clientFor(pd); // e.g. another plugin instance
    const service = pd.addService({ name: "S" });
    const original = await first.createIncident(incidentInput(service.id, "req-1"));
    const again = await second.createIncident(incidentInput(service.id, "req-1"));

    assert.deepEqual(again, original);
    assert.equal(pd.incidents().length, 1);
    const rejected = pd.requests.filter((r) => r.method === "POST" && r.status === 400);
    assert.equal(rejected.length, 1, "PagerDuty refused the duplicate");
    assert.equal(pd.requests.at(-1)?.query.get("incident_key"), "teleport-access-request/req-1");
  }));

Deno.test("once the incident is resolved, the same key opens a new incident", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    const old = await client.createIncident(incidentInput(service.id, "req-1"));
    await client.resolveIncident(old.id);
    const fresh = await client.createIncident(incidentInput(service.id, "req-1"));
    assert.notEqual(fresh.id, old.id);
    assert.equal(pd.incidents().length, 2);
  }));

Deno.test("a POST that timed out but was applied is recovered by key, not sent twice", () =>
  withDouble(async (pd) => {
    // The first POST outlives the 100 ms timeout and is applied at ~200 ms; the client
    // waits 400 ms, looks the key up and finds it.
    using client = clientFor(pd, { requestTimeout: 100 }, { retry: { baseDelayMs: 400, maxDelayMs: 400 } });
    const service = pd.addService({ name: "S" });
    pd.injectLatency({ nextN: 1, method: "POST" }, 200);
    const incident = await client.createIncident(incidentInput(service.id, "req-1"));

    assert.equal(pd.countCalls("POST", "/incidents"), 1);
    assert.equal(pd.incidents().length, 1);
    assert.equal(incident.id, pd.incidents()[0].id);
  }));

Deno.test("findIncidentByKey returns the open incident, a resolved one as fallback, or null", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    assert.equal(await client.findIncidentByKey(incidentKey("none")), null);

    const old = await client.createIncident(incidentInput(service.id, "req-1"));
    await client.resolveIncident(old.id);
    assert.equal((await client.findIncidentByKey(incidentKey("req-1")))?.id, old.id);

    const open = await client.createIncident(incidentInput(service.id, "req-1"));
    const found = await client.findIncidentByKey(incidentKey("req-1"));
    assert.equal(found?.id, open.id);
    assert.equal(found?.status, "triggered");
    const lookup = pd.requests.at(-1)!;
    assert.equal(lookup.query.get("date_range"), "all");
  }));

Deno.test("a 400 that is not about the key is not mistaken for a duplicate", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    await assert.rejects(client.createIncident(incidentInput("PMISSING", "req-1")), /Service not found/);
    assert.equal(pd.countCalls("GET", "/incidents"), 0);
  }));

Deno.test("other wordings of the duplicate-key refusal are recognised too", async () => {
  const existing = { id: "QEXIST", status: "acknowledged", incident_key: incidentKey("req-1"), title: "t" };
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (req.method === "POST") {
      const error = {
        code: 2001,
        message: "Invalid Input Provided",
        errors: ["Matching dedup key already exists"],
      };
      return Response.json({ error }, { status: 400 });
    }
    return Response.json({ incidents: [existing], more: false, limit: 100, offset: 0 });
  });
  using client = new PagerDutyClient({
    apiKey: "k",
    userEmail: "bot@example.com",
    apiEndpoint: `http://127.0.0.1:${server.addr.port}`,
  });
  assert.equal((await client.createIncident(incidentInput("PS1", "req-1"))).id, "QEXIST");
});

Deno.test("a note slower than the request timeout is posted once: the retry finds it first", () =>
  withDouble(async (pd) => {
    // The first POST outlives the 150 ms timeout and is applied at ~200 ms. The retry waits
    // a timeout's length (the backoff is shorter), so it looks at ~300 ms: the double's
    // timer fires first in the same event loop, the note is found, nothing is re-sent.
    using client = clientFor(pd, { requestTimeout: 150 }, { retry: { baseDelayMs: 10, maxDelayMs: 10 } });
    const service = pd.addService({ name: "S" });
    const incident = await client.createIncident(incidentInput(service.id, "req-1"));
    pd.injectLatency({ method: "POST", pathPrefix: `/incidents/${incident.id}/notes`, nextN: 1 }, 200);
    await client.addNote(incident.id, "reviewed: APPROVED");
    assert.deepEqual(pd.notes(incident.id).map((n) => n.content), ["reviewed: APPROVED"]);
    assert.equal(pd.countCalls("POST", `/incidents/${incident.id}/notes`), 1);
  }));

Deno.test("a note whose first attempt never reached PagerDuty is sent again", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd, {}, { retry: { baseDelayMs: 10, maxDelayMs: 10 } });
    const service = pd.addService({ name: "S" });
    const incident = await client.createIncident(incidentInput(service.id, "req-1"));
    pd.inject5xx({ method: "POST", pathPrefix: `/incidents/${incident.id}/notes`, nextN: 1 }, 503);
    await client.addNote(incident.id, "reviewed: DENIED");
    assert.deepEqual(pd.notes(incident.id).map((n) => n.content), ["reviewed: DENIED"]);
    assert.equal(pd.countCalls("POST", `/incidents/${incident.id}/notes`), 2);
  }));
