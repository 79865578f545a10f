/**
 * The Opsgenie double holds every request to the OpenAPI document and Opsgenie's
 * documented limits: each kind of contract break is recorded and refused.
 */
import assert from "node:assert/strict";
import { OpsgenieDouble } from "../../src/doubles/opsgenie_double.ts";

async function withDouble(fn: (og: OpsgenieDouble) => Promise<void>): Promise<void> {
  const og = await OpsgenieDouble.start();
  try {
    await fn(og);
  } finally {
    await og.close();
  }
}

async function send(
  og: OpsgenieDouble,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${og.url}${path}`, {
    method,
    headers: {
      authorization: `GenieKey ${og.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const problems = (og: OpsgenieDouble) => og.violations.map((v) => v.problem);

Deno.test("a conforming create is accepted with 202 and a request id, and records no violation", () =>
  withDouble(async (og) => {
    const res = await send(og, "POST", "/v2/alerts", {
      message: "m",
      alias: "a",
      responders: [{ type: "schedule", name: "s" }, { type: "team", id: "t" }],
    });
    assert.equal(res.status, 202);
    assert.equal(typeof res.body.requestId, "string");
    assert.deepEqual(og.violations, []);
  }));

Deno.test("unknown fields, wrong types, bad enums and missing required fields are violations (422)", () =>
  withDouble(async (og) => {
    const res = await send(og, "POST", "/v2/alerts", {
      alias: 5,
      extra: true,
      responders: [{ type: "schedule", username: "s" }],
      priority: "urgent",
    });
    assert.equal(res.status, 422);
    assert.deepEqual(problems(og), [
      "body.message is required",
      "body.alias must be string, got 5",
      "body.extra is an unknown field",
      "body.responders[0].username is an unknown field",
      'body.priority is "urgent", not one of P1, P2, P3, P4, P5',
    ]);
    assert.equal(og.alerts().length, 0);
  }));

Deno.test("undeclared or ill-typed query parameters are violations", () =>
  withDouble(async (og) => {
    og.addSchedule({ name: "S" });
    await send(og, "GET", "/v2/schedules/S/on-calls?scheduleIdentifierType=title&flat=yes&expand=base");
    assert.deepEqual(problems(og), [
      "query parameter expand is not declared",
      'query parameter scheduleIdentifierType is "title", not one of id, name',
      'query parameter flat must be boolean, got "yes"',
    ]);
  }));

Deno.test("a wrong Authorization scheme is a violation and a 401; a missing header too", () =>
  withDouble(async (og) => {
    const bearer = await send(og, "GET", "/v2/heartbeats/x/ping", undefined, {
      authorization: `Bearer ${og.apiKey}`,
    });
    assert.equal(bearer.status, 401);
    const res = await fetch(`${og.url}/v2/heartbeats/x/ping`);
    assert.equal(res.status, 401);
    await res.body?.cancel();
    assert.deepEqual(problems(og), [
      'Authorization scheme is "Bearer", not GenieKey',
      "Authorization header missing (security scheme GenieKey)",
    ]);
  }));

Deno.test("fields over Opsgenie's documented limits are violations", () =>
  withDouble(async (og) => {
    await send(og, "POST", "/v2/alerts", {
      message: "m".repeat(131),
      alias: "a".repeat(513),
      description: "d".repeat(15_001),
      tags: Array.from({ length: 21 }, (_, i) => `${i}`.padEnd(51, "x")),
    });
    assert.deepEqual(problems(og).slice(0, 4), [
      "body.message is longer than 130 characters",
      "body.alias is longer than 512 characters",
      "body.description is longer than 15000 characters",
      "body.tags has more than 20 tags",
    ]);
  }));

Deno.test("an operation the document does not have is a violation", () =>
  withDouble(async (og) => {
    await send(og, "POST", "/v2/alerts/x/resolve?identifierType=alias", {});
    assert.deepEqual(problems(og), ["no operation POST /v2/alerts/x/resolve in the document"]);
  }));

Deno.test("one open alert per alias; a closed alias can be opened again", () =>
  withDouble(async (og) => {
    await send(og, "POST", "/v2/alerts", { message: "m", alias: "dup" });
    await send(og, "POST", "/v2/alerts", { message: "m", alias: "dup" });
    assert.equal(og.alerts().length, 1);
    assert.equal(og.alerts()[0].count, 2);
    await send(og, "POST", "/v2/alerts/dup/close?identifierType=alias", {});
    await send(og, "POST", "/v2/alerts", { message: "m", alias: "dup" });
    assert.deepEqual(og.alerts().map((a) => a.status), ["closed", "open"]);
    const status = await send(og, "GET", `/v2/alerts/requests/${og.acceptedRequestIds[1]}`);
    assert.equal((status.body.data as Record<string, unknown>).alertId, og.alerts()[0].id);
    assert.deepEqual(og.violations, []);
  }));

Deno.test("the server rate limit applies per Opsgenie domain", () =>
  withDouble(async (og) => {
    og.addSchedule({ name: "S" });
    og.setServerRateLimit({ limit: 1, windowMs: 60_000 });
    assert.equal((await send(og, "POST", "/v2/alerts", { message: "m" })).status, 202);
    assert.equal((await send(og, "POST", "/v2/alerts", { message: "m" })).status, 429);
    assert.equal((await send(og, "GET", "/v2/schedules/S/on-calls?scheduleIdentifierType=name")).status, 200);
  }));

Deno.test("JSM double: Basic auth, id-only responders and the site's cloud id are enforced", async () => {
  const { JsmDouble } = await import("../../src/doubles/jsm_double.ts");
  const jsm = await JsmDouble.start();
  try {
    const post = (path: string, body: unknown, auth: string) =>
      fetch(`${jsm.url}${path}`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then(async (r) => (await r.body?.cancel(), r.status));
    const basic = `Basic ${btoa(`${jsm.email}:${jsm.apiToken}`)}`;
    const base = `/jsm/ops/api/${jsm.cloudId}/v1`;
    assert.equal(await post(`${base}/alerts`, { message: "m" }, basic), 202);
    assert.equal(
      await post(`${base}/alerts`, { message: "m", responders: [{ type: "team", name: "T" }] }, basic),
      422,
    );
    assert.equal(await post(`${base}/alerts`, { message: "m" }, `GenieKey ${jsm.apiToken}`), 401);
    assert.equal(await post(`/jsm/ops/api/other/v1/alerts`, { message: "m" }, basic), 422);
    assert.deepEqual(jsm.violations.map((v) => v.problem), [
      "body.responders[0].id is required",
      "body.responders[0].name is an unknown field",
      "Authorization is not HTTP Basic (security scheme basicAuth)",
      "cloud id other is not this site's",
    ]);
  } finally {
    await jsm.close();
  }
});
