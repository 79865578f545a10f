/**
 * The PagerDuty double itself behaves like the real API (so the client tests mean
 * something): substring search, pagination, auth and From checks, error envelope,
 * incident-key dedup, contract-violation accounting and faults.
 */
import assert from "node:assert/strict";
import { PagerDutyDouble } from "../../../src/doubles/pagerduty_double.ts";
import { withDouble } from "./helpers.ts";

const HEADERS = {
  "Accept": "application/vnd.pagerduty+json;version=2",
  "Content-Type": "application/json",
};

function call(
  pd: PagerDutyDouble,
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string> } = {},
) {
  return fetch(`${pd.url}${path}`, {
    method,
    headers: {
      ...HEADERS,
      Authorization: `Token token=${pd.apiKey}`,
      From: "bot@example.com",
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json() }));
}

Deno.test("double: query is a case-insensitive substring search with limit/offset/more (default 25)", () =>
  withDouble(async (pd) => {
    for (let i = 0; i < 30; i++) pd.addService({ name: `Payments ${i}` });
    pd.addService({ name: "Other" });
    const first = await call(pd, "GET", "/services?query=PAYMENTS");
    assert.equal(first.body.services.length, 25);
    assert.deepEqual([first.body.limit, first.body.offset, first.body.more, first.body.total], [
      25,
      0,
      true,
      null,
    ]);
    const second = await call(pd, "GET", "/services?query=payments&offset=25&total=true");
    assert.deepEqual([second.body.services.length, second.body.more, second.body.total], [5, false, 30]);
    assert.equal(second.body.services[0].escalation_policy.type, "escalation_policy_reference");
  }));

Deno.test("double: missing or wrong Authorization is a 401 envelope", () =>
  withDouble(async (pd) => {
    const wrong = await call(pd, "GET", "/abilities", { headers: { Authorization: "Token token=nope" } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { error: { message: "Authentication failed", code: 2006 } });
    const ok = await call(pd, "GET", "/abilities");
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.body.abilities));
  }));

Deno.test("double: writes without a From email are refused and counted as violations", () =>
  withDouble(async (pd) => {
    const service = pd.addService({ name: "S" });
    const body = {
      incident: { type: "incident", title: "t", service: { id: service.id, type: "service_reference" } },
    };
    const missing = await call(pd, "POST", "/incidents", { body, headers: { From: "" } });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.errors[0], /From/);
    const notEmail = await call(pd, "POST", "/incidents", { body, headers: { From: "bot" } });
    assert.equal(notEmail.status, 400);
    assert.equal(pd.violations.length, 2);
    assert.equal(pd.incidents().length, 0);
  }));

Deno.test("double: wrong Accept / Content-Type, bracketless arrays and bad bodies are violations", () =>
  withDouble(async (pd) => {
    await call(pd, "GET", "/abilities", { headers: { "Content-Type": "application/json; charset=utf-8" } });
    await call(pd, "GET", "/abilities", { headers: { Accept: "application/json" } });
    await call(pd, "GET", "/oncalls?user_ids=U1");
    const put = await call(pd, "PUT", "/incidents/Q1", {
      body: { incident: { type: "incident_reference", status: "resolved", service: {} } },
    });
    assert.equal(put.status, 400);
    assert.deepEqual(pd.violations.map((v) => v.problem), [
      'Content-Type is "application/json; charset=utf-8"',
      'Accept is "application/json"',
      "array parameter user_ids without []",
      "body: incident.service must have an id and a type.",
    ]);
  }));

Deno.test("double: a second open incident with the same key on the service is a 400; the key filters GET", () =>
  withDouble(async (pd) => {
    const service = pd.addService({ name: "S" });
    const incident = (key: string) => ({
      incident: {
        type: "incident",
        title: "t",
        incident_key: key,
        service: { id: service.id, type: "service_reference" },
      },
    });
    assert.equal((await call(pd, "POST", "/incidents", { body: incident("k1") })).status, 201);
    const dup = await call(pd, "POST", "/incidents", { body: incident("k1") });
    assert.equal(dup.status, 400);
    assert.deepEqual(dup.body.error, {
      message: "Invalid Input Provided",
      code: 2001,
      errors: ["Open incident with key 'k1' already exists on this service."],
    });
    assert.equal((await call(pd, "POST", "/incidents", { body: incident("k2") })).status, 201);
    const listed = await call(pd, "GET", "/incidents?incident_key=k2");
    assert.deepEqual(listed.body.incidents.map((i: { incident_key: string }) => i.incident_key), ["k2"]);
  }));

Deno.test("double: notes answer 200 and unknown incidents 404", () =>
  withDouble(async (pd) => {
    const service = pd.addService({ name: "S" });
    const created = await call(pd, "POST", "/incidents", {
      body: {
        incident: { type: "incident", title: "t", service: { id: service.id, type: "service_reference" } },
      },
    });
    const id = created.body.incident.id;
    assert.equal(
      (await call(pd, "POST", `/incidents/${id}/notes`, { body: { note: { content: "hi" } } })).status,
      200,
    );
    assert.equal(
      (await call(pd, "POST", "/incidents/QX/notes", { body: { note: { content: "hi" } } })).status,
      404,
    );
    assert.deepEqual(pd.notes(id), [{ id: pd.notes(id)[0].id, content: "hi", from: "bot@example.com" }]);
    assert.equal((await call(pd, "GET", "/nowhere")).status, 404);
  }));

Deno.test("double: fault selectors — every Nth, next N, for T ms, filtered by method/path", () =>
  withDouble(async (pd) => {
    pd.inject429({ everyNth: 2, pathPrefix: "/abilities" }, { retryAfterSeconds: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(pd, "GET", "/abilities")).status);
    assert.deepEqual(statuses, [200, 429, 200, 429]);
    assert.equal(pd.requests[1].status, 429);

    pd.clearFaults();
    pd.inject5xx({ nextN: 1, method: "GET" }, 503);
    assert.equal((await call(pd, "GET", "/abilities")).status, 503);
    assert.equal((await call(pd, "GET", "/abilities")).status, 200);

    pd.inject5xx({ forMs: 50 });
    assert.equal((await call(pd, "GET", "/abilities")).status, 500);
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await call(pd, "GET", "/abilities")).status, 200);
  }));

Deno.test("double: 429 responses carry the envelope and the rate-limit headers", () =>
  withDouble(async (pd) => {
    pd.inject429({ nextN: 1 }, { retryAfterSeconds: 2, rateLimitResetSeconds: 5 });
    const limited = await call(pd, "GET", "/abilities");
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "2");
    assert.equal(limited.headers.get("ratelimit-reset"), "5");
    assert.equal(limited.body.error.code, 2020);
  }));

Deno.test("double: a connection reset leaves no response; waitFor observes requests", () =>
  withDouble(async (pd) => {
    pd.injectConnectionReset({ nextN: 1 });
    await assert.rejects(call(pd, "GET", "/abilities"), TypeError);
    await pd.waitFor(() => pd.requests.length === 1, 1_000);
    assert.equal(pd.requests[0].status, 0);
    assert.equal((await call(pd, "GET", "/abilities")).status, 200);
    await assert.rejects(pd.waitFor(() => false, 20), /not met/);
  }));
