/**
 * TeleportClient against the double: ping and version checks, plugin data
 * compare-and-swap, reviews and listing, with gRPC statuses mapped to typed errors.
 */
import assert from "node:assert/strict";
import type { AccessRequest } from "../../src/core/types.ts";
import { casRetry } from "../../src/core/cas.ts";
import { CompareFailedError, IncompatibleVersionError, NotFoundError } from "../../src/teleport/errors.ts";
import { API_VERSION } from "../../src/teleport/dial.ts";
import { startHarness } from "./harness.ts";

Deno.test("ping reports the cluster, version, workflows flag and proxy address", async () => {
  await using h = await startHarness({ clusterName: "ping.example.com", serverVersion: "16.2.0" });
  assert.deepEqual(await h.client().ping(), {
    clusterName: "ping.example.com",
    serverVersion: "16.2.0",
    proxyPublicAddr: "proxy.example.com:443",
    advancedAccessWorkflows: true,
  });
});

Deno.test("ping refuses servers older than 6.1.0 and servers without Ping", async () => {
  await using h = await startHarness({ serverVersion: "6.0.9" });
  const client = h.client();
  await assert.rejects(client.ping(), new IncompatibleVersionError("incompatible versions: 6.0.9 < 6.1.0"));
  h.double.ping.serverVersion = "6.1.0-beta.1";
  await assert.rejects(client.ping(), { message: "incompatible versions: 6.1.0-beta.1 < 6.1.0" });
  h.double.ping.serverVersion = "6.1.0";
  assert.equal((await client.ping()).serverVersion, "6.1.0");
  h.double.ping.unimplemented = true;
  await assert.rejects(client.ping(), new IncompatibleVersionError("server version must be at least 6.1.0"));
});

Deno.test("every call carries the API version as `version` metadata", async () => {
  await using h = await startHarness();
  await h.client().ping();
  assert.equal(h.double.calls.Ping, 1);
  assert.equal(h.double.lastClientVersion, API_VERSION);
});

Deno.test("plugin data: empty result before the first write, then CAS with Expect/Set semantics", async () => {
  await using h = await startHarness();
  const client = h.client();
  const id = h.double.createRequest({ user: "alice", roles: ["admin"] });
  assert.equal(await client.getPluginData(id, "pagerduty"), null);

  await client.updatePluginData(id, "pagerduty", { incident_id: "P1", user: "alice" }, { incident_id: "" });
  assert.deepEqual(await client.getPluginData(id, "pagerduty"), { incident_id: "P1", user: "alice" });

  await assert.rejects(
    client.updatePluginData(id, "pagerduty", { incident_id: "P2" }, { incident_id: "" }),
    (error) =>
      error instanceof CompareFailedError && error.message === 'expectations not met for field "incident_id"',
  );
  // "" deletes a key; an entry whose data becomes empty disappears.
  await client.updatePluginData(id, "pagerduty", { user: "" }, { incident_id: "P1" });
  assert.deepEqual(h.double.pluginData(id, "pagerduty"), { incident_id: "P1" });
  await client.updatePluginData(id, "pagerduty", { incident_id: "" }, {});
  assert.equal(await client.getPluginData(id, "pagerduty"), null);
});

Deno.test("plugin data for a request that does not exist is NOT_FOUND on write", async () => {
  await using h = await startHarness();
  const client = h.client();
  await assert.rejects(client.updatePluginData("missing", "pagerduty", { a: "1" }, {}), NotFoundError);
  assert.equal(await client.getPluginData("missing", "pagerduty"), null);
});

Deno.test("listPluginData returns this plugin's entries across requests", async () => {
  await using h = await startHarness();
  const client = h.client();
  const first = h.double.createRequest({ user: "alice", roles: ["admin"] });
  const second = h.double.createRequest({ user: "bob", roles: ["admin"] });
  await client.updatePluginData(first, "pagerduty", { incident_id: "P1" }, {});
  await client.updatePluginData(second, "other-plugin", { x: "1" }, {});
  assert.deepEqual(await client.listPluginData("pagerduty"), [{
    requestId: first,
    data: { incident_id: "P1" },
  }]);
});

Deno.test("10 concurrent CAS writers: exactly one wins each round, the others get CompareFailed", async () => {
  await using h = await startHarness();
  const client = h.client();
  const id = h.double.createRequest({ user: "alice", roles: ["admin"] });
  for (let round = 0; round < 5; round++) {
    const seen = (await client.getPluginData(id, "pagerduty"))?.round ?? "";
    const results = await Promise.allSettled(
      Array.from(
        { length: 10 },
        (_, writer) =>
          client.updatePluginData(id, "pagerduty", { round: String(round + 1), writer: String(writer) }, {
            round: seen,
          }),
      ),
    );
    assert.equal(results.filter((result) => result.status === "fulfilled").length, 1, `round ${round}`);
    for (const result of results) {
      if (result.status === "rejected") assert.ok(result.reason instanceof CompareFailedError);
    }
  }
  assert.equal(h.double.pluginData(id, "pagerduty")?.round, "5");
});

Deno.test("casRetry: 10 concurrent read-modify-write loops lose no increment", async () => {
  await using h = await startHarness();
  const client = h.client();
  const id = h.double.createRequest({ user: "alice", roles: ["admin"] });
  const increment = () =>
    casRetry(async () => {
      const count = (await client.getPluginData(id, "pagerduty"))?.count ?? "";
      await client.updatePluginData(id, "pagerduty", { count: String(Number(count) + 1) }, { count });
    }, { signal: AbortSignal.timeout(20_000) });
  await Promise.all(Array.from({ length: 10 }, () => Promise.all([increment(), increment(), increment()])));
  assert.equal(h.double.pluginData(id, "pagerduty")?.count, "30");
});

Deno.test("casRetry gives up with the CompareFailedError once its signal aborts", async () => {
  let attempts = 0;
  const alwaysConflicting = () => {
    attempts++;
    return Promise.reject(new CompareFailedError("expectations not met"));
  };
  await assert.rejects(casRetry(alwaysConflicting, { signal: AbortSignal.timeout(50) }), CompareFailedError);
  assert.ok(attempts > 1);
});

Deno.test("a plugin review approves a pending request (default threshold 1/1)", async () => {
  await using h = await startHarness();
  const client = h.client();
  const id = h.double.createRequest({ user: "alice", roles: ["admin"], reason: "deploy" });
  await client.submitReview(id, { proposedState: "APPROVED", reason: "alice is on call" });
  const request = await client.getRequest(id);
  assert.equal(request?.state, "APPROVED");
  assert.equal(request?.resolveReason, "alice is on call");
  assert.equal(request?.reviews[0].author, "plugin");
  assert.ok(request?.reviews[0].created instanceof Date);
  assert.deepEqual(h.double.reviewsSubmittedBy("plugin"), [
    { requestId: id, proposedState: "APPROVED", reason: "alice is on call" },
  ]);
});

Deno.test("a second review by the same author is reported as already reviewed, from Teleport's refusal", async () => {
  await using h = await startHarness();
  const client = h.client();
  const id = h.double.createRequest({ user: "alice", roles: ["admin"], thresholds: { approve: 2, deny: 2 } });
  assert.equal(await client.submitReview(id, { proposedState: "APPROVED", reason: "first" }), "submitted");
  assert.equal((await client.getRequest(id))?.state, "PENDING");
  assert.equal(
    await client.submitReview(id, { proposedState: "APPROVED", reason: "again" }),
    "already-reviewed",
  );
  assert.equal(h.double.calls.SubmitAccessReview, 2);
});

Deno.test("reviews are refused for unknown requests, non-reviewers and resolved requests", async () => {
  await using h = await startHarness();
  const client = h.client();
  await assert.rejects(client.submitReview("nope", { proposedState: "APPROVED", reason: "" }), {
    name: "NotFoundError",
    message: 'cannot apply review to access request "nope" (not found)',
  });
  const denied = h.double.createRequest({ user: "alice", roles: ["admin"] });
  h.double.setReviewer("carol", ["admin"]);
  h.double.review("carol", denied, "DENIED", "no");
  assert.equal(h.double.getRequest(denied)?.state, "DENIED");
  await assert.rejects(client.submitReview(denied, { proposedState: "APPROVED", reason: "" }), {
    name: "AccessDeniedError",
    message: "the access request has been already denied",
  });
  h.double.setReviewer("plugin", ["dev"]);
  const forAdmin = h.double.createRequest({ user: "alice", roles: ["admin"] });
  await assert.rejects(client.submitReview(forAdmin, { proposedState: "APPROVED", reason: "" }), {
    message: `user "plugin" cannot review request "${forAdmin}"`,
  });
});

/** Every pending request, collected from the client's pages. */
async function allPending(client: { pendingRequests(): AsyncIterable<AccessRequest[]> }) {
  const pages: AccessRequest[][] = [];
  for await (const page of client.pendingRequests()) pages.push(page);
  return { pages, pending: pages.flat() };
}

Deno.test("pendingRequests pages through ListAccessRequests (a page at a time) and maps annotations", async () => {
  await using h = await startHarness();
  const client = h.client();
  const ids = Array.from({ length: 1_203 }, (_, i) =>
    h.double.createRequest({
      user: `user-${i}`,
      roles: ["admin"],
      systemAnnotations: { pagerduty_services: ["svc-a", "svc-b"] },
    }));
  h.double.setState(ids[0], "APPROVED", "done");
  const { pages, pending } = await allPending(client);
  assert.deepEqual(pages.map((page) => page.length), [500, 500, 202]);
  assert.equal(pending.length, ids.length - 1);
  assert.equal(h.double.calls.ListAccessRequests, 3);
  assert.deepEqual(pending[0].systemAnnotations, { pagerduty_services: ["svc-a", "svc-b"] });
  assert.ok(!pending.some((request) => request.id === ids[0]));
});

Deno.test("without ListAccessRequests the client falls back to GetAccessRequestsV2", async () => {
  await using h = await startHarness();
  const client = h.client();
  const id = h.double.createRequest({ user: "alice", roles: ["admin"], reason: "why" });
  h.double.listAccessRequestsUnimplemented = true;
  const { pending } = await allPending(client);
  assert.deepEqual(pending.map((request) => [request.id, request.requestReason]), [[id, "why"]]);
  assert.equal((await client.getRequest(id))?.user, "alice");
  assert.equal(await client.getRequest("gone"), null);
  assert.equal(h.double.calls.GetAccessRequestsV2, 3);
});
