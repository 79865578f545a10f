/**
 * The Opsgenie client against the contract-checked double: what goes on the wire, the
 * asynchronous request status, alias idempotency, retries and error classes.
 */
import assert from "node:assert/strict";
import {
  alertAlias,
  createOpsgenieClient,
  OpsgenieAuthError,
  OpsgeniePendingError,
  OpsgenieRefusedError,
  responder,
} from "../../../src/backends/opsgenie/mod.ts";
import { failureOf } from "../../../src/core/errors.ts";
import { calls, clientFor, withDouble } from "./helpers.ts";

const ALIAS = alertAlias("0b9e4e2a-6c5f-4a7e-9d0e-1b2c3d4e5f60");
const SCHEDULE_ID = "7c1e3b2a-1111-4a7e-9d0e-1b2c3d4e5f60";

function input(alias = ALIAS) {
  return {
    message: "Access request from alice@example.com",
    alias,
    description: "alice requested permissions\n",
    responders: [responder("schedule", "Teleport Notifications One"), responder("team", "My Team")],
    tags: ["TeleportAccessRequest"],
    priority: "P2",
  };
}

Deno.test("every operation sends GenieKey authorization and conforms to the OpenAPI document", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    og.addSchedule({ name: "Teleport Approval", onCall: ["alice@example.com"] });
    await client.healthCheck();
    const alert = await client.createAlert(input());
    await client.addNote(alert, "hello");
    assert.deepEqual(await client.listNotes(alert), ["hello"]);
    await client.closeAlert(alert);
    assert.deepEqual(await client.getAlertByAlias(ALIAS), alert);
    assert.deepEqual(await client.onCallUsers("Teleport Approval"), ["alice@example.com"]);
    assert.equal(og.requests.length, 8);
    for (const r of og.requests) assert.equal(r.headers.get("authorization"), `GenieKey ${og.apiKey}`);
  }));

Deno.test("healthCheck pings upstream's heartbeat", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    await client.healthCheck();
    assert.deepEqual(calls(og), ["GET /v2/heartbeats/teleport-access-heartbeat/ping"]);
  }));

Deno.test("createAlert posts message, alias, description, responders (UUID as id), tags and priority", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    await client.createAlert({
      ...input(),
      responders: [
        responder("schedule", SCHEDULE_ID),
        responder("schedule", "Night"),
        responder("team", "My Team"),
      ],
    });
    assert.deepEqual(og.requests[0].body, {
      message: "Access request from alice@example.com",
      alias: ALIAS,
      description: "alice requested permissions\n",
      responders: [
        { type: "schedule", id: SCHEDULE_ID },
        { type: "schedule", name: "Night" },
        { type: "team", name: "My Team" },
      ],
      tags: ["TeleportAccessRequest"],
      priority: "P2",
    });
  }));

Deno.test("createAlert omits tags and priority when none are configured", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    await client.createAlert({ ...input(), tags: [], priority: undefined });
    const body = og.requests[0].body as Record<string, unknown>;
    assert.equal("tags" in body, false);
    assert.equal("priority" in body, false);
    assert.equal(og.alerts()[0].priority, "P3");
  }));

Deno.test("a created alert costs two calls: the create and one request-status read", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    const alert = await client.createAlert(input());
    assert.deepEqual(calls(og), ["POST /v2/alerts", `GET /v2/alerts/requests/${og.acceptedRequestIds[0]}`]);
    assert.equal(alert.id, og.alerts()[0].id);
    assert.equal(alert.alias, ALIAS);
  }));

Deno.test("a request status that is not processed yet (404) is read again until it is", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    og.setProcessingLag(2);
    const alert = await client.createAlert(input());
    assert.equal(alert.id, og.alerts()[0].id);
    assert.equal(og.countCalls("GET", "/v2/alerts/requests/"), 3);
  }));

Deno.test("a request still unprocessed after the polling budget is a transient error, never an empty id", () =>
  withDouble(async (og) => {
    using client = clientFor(og, { poll: { attempts: 3, firstDelayMs: 1, maxDelayMs: 1 } });
    og.setProcessingLag(10);
    const err = await client.createAlert(input()).then(() => null, (e) => e);
    assert.ok(err instanceof OpsgeniePendingError, String(err));
    assert.equal(failureOf(err), "transient");
  }));

Deno.test("a processed but failed request (success false) is a permanent error", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    // Notes are fire-and-forget; a failure shows only in the request status.
    await client.addNote({ id: "", alias: "no-such-alias" }, "x");
    const err = await client.waitForRequest(og.acceptedRequestIds[0]).then(() => null, (e) => e);
    assert.ok(err instanceof OpsgenieRefusedError, String(err));
    assert.match(err.message, /Alert does not exist/);
    assert.equal(failureOf(err), "permanent");
  }));

Deno.test("creating twice with the same alias yields one open alert (Opsgenie de-duplicates)", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    const first = await client.createAlert(input());
    const second = await client.createAlert(input());
    assert.deepEqual(second, first);
    assert.equal(og.alerts().length, 1);
    assert.equal(og.alerts()[0].count, 2);
  }));

Deno.test("a create whose answer is lost (timeout) is retried without a second alert", () =>
  withDouble(async (og) => {
    using client = createOpsgenieClient(
      { apiKey: og.apiKey, apiEndpoint: og.url, requestTimeout: 100 },
      { retry: { deadlineMs: 5_000, baseDelayMs: 2, maxDelayMs: 20 }, poll: { firstDelayMs: 2 } },
    );
    // The first create is applied after the client gave up on it.
    og.injectLatency({ method: "POST", pathPrefix: "/v2/alerts", nextN: 1 }, 300);
    const alert = await client.createAlert(input());
    await og.waitFor(() => og.requests.every((r) => r.status !== 0));
    assert.equal(og.alerts().length, 1);
    assert.equal(alert.id, og.alerts()[0].id);
    // Before re-sending, the client looked for the alert by its alias.
    assert.ok(calls(og).includes(`GET /v2/alerts/${encodeURIComponent(ALIAS)}`));
  }));

Deno.test("429 and 5xx are retried; Retry-After is honoured", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    og.inject429({ nextN: 2 }, { retryAfterSeconds: 0 });
    og.inject5xx({ nextN: 1, method: "GET" }, 503);
    const alert = await client.createAlert(input());
    assert.equal(alert.id, og.alerts()[0].id);
    assert.deepEqual(og.requests.map((r) => r.status), [429, 429, 202, 503, 200]);
  }));

Deno.test("a connection reset on a read is retried", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    og.addSchedule({ name: "S", onCall: ["a@example.com"] });
    og.injectConnectionReset({ nextN: 1 });
    assert.deepEqual(await client.onCallUsers("S"), ["a@example.com"]);
  }));

Deno.test("a wrong key is a permanent auth error whose message never shows the key", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    using wrong = createOpsgenieClient({ apiKey: "wrong-key-123456", apiEndpoint: og.url });
    const err = await wrong.createAlert(input()).then(() => null, (e) => e);
    assert.ok(err instanceof OpsgenieAuthError, String(err));
    assert.equal(failureOf(err), "permanent");
    assert.doesNotMatch(err.message, /wrong-key-123456/);
    assert.equal(await client.getAlertByAlias("none"), null);
  }));

Deno.test("notes, list and close address the alert by alias, or by id when no alias is known", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    const alert = await client.createAlert(input());
    await client.addNote(alert, "by alias");
    await client.closeAlert({ id: alert.id, alias: "" });
    const writes = og.requests.filter((r) => r.method === "POST" && r.path !== "/v2/alerts");
    assert.deepEqual(writes.map((r) => [r.path, r.query.get("identifierType")]), [
      [`/v2/alerts/${encodeURIComponent(ALIAS)}/notes`, "alias"],
      [`/v2/alerts/${alert.id}/close`, "id"],
    ]);
    assert.equal(og.alerts()[0].status, "closed");
    assert.deepEqual(og.alerts()[0].notes.map((n) => n.note), ["by alias"]);
  }));

Deno.test("onCallUsers accepts a schedule name or id; an unknown schedule is null", () =>
  withDouble(async (og) => {
    using client = clientFor(og);
    og.addSchedule({ name: "Teleport Approval", id: SCHEDULE_ID, onCall: ["bob@example.com"] });
    assert.deepEqual(await client.onCallUsers("Teleport Approval"), ["bob@example.com"]);
    assert.deepEqual(await client.onCallUsers(SCHEDULE_ID), ["bob@example.com"]);
    assert.equal(await client.onCallUsers("Nope"), null);
    assert.deepEqual(og.requests.map((r) => r.query.get("scheduleIdentifierType")), ["name", "id", "name"]);
    assert.ok(og.requests.every((r) => r.query.get("flat") === "true"));
  }));
