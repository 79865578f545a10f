/**
 * Lists are paginated with limit/offset/more; lookups keep paging until the exact
 * (case-insensitive) match is found, and PagerDuty's substring search means the first
 * page may hold only near-misses.
 */
import assert from "node:assert/strict";
import { PagerDutyClient } from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, withDouble } from "./helpers.ts";

Deno.test("findServiceByName pages past near-misses to the exact name, case-insensitively", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    for (let i = 0; i < 150; i++) pd.addService({ name: `Payments ${i}` });
    const wanted = pd.addService({ name: "PAYMENTS" });

    const found = await client.findServiceByName("payments");

    assert.deepEqual(found, wanted);
    const offsets = pd.requests.map((r) => r.query.get("offset"));
    assert.deepEqual(offsets, ["0", "100"]);
  }));

Deno.test("findServiceByName stops at the first page holding the match", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addService({ name: "Teleport" });
    for (let i = 0; i < 150; i++) pd.addService({ name: `Teleport ${i}` });
    assert.equal((await client.findServiceByName("teleport"))?.name, "Teleport");
    assert.equal(pd.countCalls("GET", "/services"), 1);
  }));

Deno.test("findServiceByName returns null when only substrings match", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    for (let i = 0; i < 120; i++) pd.addService({ name: `Payments ${i}` });
    assert.equal(await client.findServiceByName("Payments"), null);
    assert.equal(pd.countCalls("GET", "/services"), 2);
  }));

Deno.test("findUserByEmail matches the email case-insensitively and exactly", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    pd.addUser({ name: "Alice Two", email: "alice@example.com.au" });
    const alice = pd.addUser({ name: "Alice", email: "Alice@Example.com" });
    assert.deepEqual(await client.findUserByEmail("ALICE@example.com"), alice);
    assert.equal(await client.findUserByEmail("lice@example.com"), null);
  }));

Deno.test("findUserByEmail follows `more` when the query matches many users", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    // Names contain the searched text too, so the match sits on the third page.
    for (let i = 0; i < 210; i++) {
      pd.addUser({ name: `ops@example.com clone ${i}`, email: `clone${i}@example.com` });
    }
    const ops = pd.addUser({ name: "Ops", email: "ops@example.com" });
    assert.deepEqual(await client.findUserByEmail("ops@example.com"), ops);
    assert.deepEqual(
      pd.requests.map((r) => r.query.get("offset")),
      ["0", "100", "200"],
    );
  }));

Deno.test("onCallPolicies reads further pages until every policy has matched", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const alice = pd.addUser({ name: "Alice", email: "alice@example.com" });
    for (let level = 1; level <= 120; level++) {
      pd.addOnCall({ userId: alice.id, escalationPolicyId: "PEPA", level });
    }
    pd.addOnCall({ userId: alice.id, escalationPolicyId: "PEPB" });

    assert.deepEqual(await client.onCallPolicies(alice.id, ["PEPB", "PEPA"]), ["PEPB", "PEPA"]);
    assert.deepEqual(pd.requests.map((r) => r.query.get("offset")), ["0", "100"]);
  }));

Deno.test("onCallPolicies stops paging once every policy has matched", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const alice = pd.addUser({ name: "Alice", email: "alice@example.com" });
    for (let level = 1; level <= 250; level++) {
      pd.addOnCall({ userId: alice.id, escalationPolicyId: "PEPA", level });
    }
    assert.deepEqual(await client.onCallPolicies(alice.id, ["PEPA"]), ["PEPA"]);
    assert.equal(pd.countCalls("GET", "/oncalls"), 1);
  }));

Deno.test("paging ends when a server keeps answering more:true with empty pages", async () => {
  let calls = 0;
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    calls++;
    return Response.json({ services: [], more: true, limit: 100, offset: 0 });
  });
  using client = new PagerDutyClient({
    apiKey: "k",
    userEmail: "bot@example.com",
    apiEndpoint: `http://127.0.0.1:${server.addr.port}`,
  });
  assert.equal(await client.findServiceByName("x"), null);
  assert.equal(calls, 1);
});
