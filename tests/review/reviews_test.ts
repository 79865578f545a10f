/**
 * Approving and denying from PagerDuty, end to end: the real plugin (runPlugin) with its
 * review listener, PagerDuty's deliveries over real HTTP from the PagerDuty double, and
 * the Teleport double enforcing reviews on behalf of users.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { join } from "node:path";
import { eventually, PLUGIN_USER } from "../../src/doubles/world.ts";
import { ACTION_PATHS, ACTION_SECRET_HEADER } from "../../src/review/endpoints.ts";
import { MAX_BODY_BYTES } from "../../src/review/server.ts";
import { ALICE, APPROVE_SECRET, BOB, REQUESTER, type ReviewSuite, startReviewSuite } from "./fixtures.ts";

function notes(suite: ReviewSuite, incidentId: string): string[] {
  return suite.world.pagerduty.notes(incidentId).map((n) => n.content);
}

function incidentReads(suite: ReviewSuite, incidentId: string): number {
  return suite.world.pagerduty.requests.filter((r) =>
    r.method === "GET" && r.path === `/incidents/${incidentId}`
  )
    .length;
}

/** A hand-made V3 delivery, signed with the subscription's secret (what a subscription on another service would send). */
function deliverSigned(suite: ReviewSuite, event: Record<string, unknown>): Promise<number> {
  const secret = suite.world.pagerduty.subscriptions()[0].secret;
  const body = JSON.stringify({
    event: { event_type: "incident.workflow.started", occurred_at: new Date().toISOString(), ...event },
  });
  return suite.world.pagerduty.deliver({
    url: suite.webhookUrl(),
    body,
    headers: {
      "content-type": "application/json",
      "x-pagerduty-signature": `v1=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
  });
}

async function press(suite: ReviewSuite, incidentId: string, userId: string, action: "approve" | "deny") {
  const { eventId, statuses } = await suite.world.pagerduty.pressWorkflowTrigger({
    incidentId,
    userId,
    triggerId: suite.triggers[action],
  });
  assert.deepEqual(statuses, [202]);
  return suite.outcome(eventId);
}

Deno.test("approve from an incident workflow: a review by the mapped user, submitted by the plugin, and a note", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  const outcome = await press(suite, incidentId, suite.pd.alice.id, "approve");
  assert.equal(outcome.result, "reviewed", outcome.detail);
  assert.deepEqual(suite.world.teleport.reviewLog(), [{
    requestId,
    author: ALICE,
    submittedBy: PLUGIN_USER,
    proposedState: "APPROVED",
    reason: `Approved via PagerDuty (incident ${incidentId})`,
  }]);
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "APPROVED");
  assert.ok(notes(suite, incidentId).includes(`Access request approved by ${ALICE} via PagerDuty`));
});

Deno.test("deny from a Custom Incident Action carrying its secret header", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  const { eventId, status } = await suite.world.pagerduty.pressCustomAction({
    incidentId,
    userId: suite.pd.alice.id,
    actionId: suite.actions.deny,
  });
  assert.equal(status, 202);
  assert.equal((await suite.outcome(eventId)).result, "reviewed");
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "DENIED");
  assert.equal(suite.world.teleport.reviewLog()[0].author, ALICE);
  assert.ok(notes(suite, incidentId).includes(`Access request denied by ${ALICE} via PagerDuty`));
});

Deno.test("a bad signature is refused with 403 before anything is fetched", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  const [delivery] = suite.world.pagerduty.workflowDelivery({
    incidentId,
    userId: suite.pd.alice.id,
    triggerId: suite.triggers.approve,
  });
  // Someone without the secret re-signs a body of their own choosing.
  const forged = {
    ...delivery,
    headers: {
      ...delivery.headers,
      "x-pagerduty-signature": `v1=${createHmac("sha256", "guessed").update(delivery.body).digest("hex")}`,
    },
  };
  assert.equal(await suite.world.pagerduty.deliver(forged), 403);
  const tampered = { ...delivery, body: delivery.body.replace(suite.pd.alice.id, suite.pd.bob.id) };
  assert.equal(await suite.world.pagerduty.deliver(tampered), 403);
  const unsigned = { ...delivery, headers: { ...delivery.headers, "x-pagerduty-signature": "" } };
  assert.equal(await suite.world.pagerduty.deliver(unsigned), 400);
  // The genuine delivery, signed twice during a secret rotation, still passes.
  const rotated = {
    ...delivery,
    headers: {
      ...delivery.headers,
      "x-pagerduty-signature": `v1=${"0".repeat(64)}, ${delivery.headers["x-pagerduty-signature"]}`,
    },
  };
  assert.equal(await suite.world.pagerduty.deliver(rotated), 202);
  const eventId = JSON.parse(delivery.body).event.id;
  // No matching log entry was made for this hand-built click: the cross-check refuses it.
  assert.equal((await suite.outcome(eventId)).result, "refused");
  assert.equal(incidentReads(suite, incidentId), 1);
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "PENDING");
});

Deno.test("a custom action without its secret, or with the other action's, is refused", async () => {
  await using suite = await startReviewSuite();
  const { incidentId } = await suite.request();
  const url = `http://127.0.0.1:${suite.main.port}${ACTION_PATHS.deny}`;
  const body = JSON.stringify({ messages: [] });
  const post = (headers: Record<string, string>) =>
    suite.world.pagerduty.deliver({ url, body, headers: { "content-type": "application/json", ...headers } });
  assert.equal(await post({}), 401);
  assert.equal(await post({ [ACTION_SECRET_HEADER]: APPROVE_SECRET }), 403);
  assert.equal(incidentReads(suite, incidentId), 0);
});

Deno.test("a stale replay (older than the 48 h window) and a future-dated event are refused", async () => {
  await using suite = await startReviewSuite();
  const { incidentId } = await suite.request();
  for (const hours of [-49, 1]) {
    const [delivery] = suite.world.pagerduty.workflowDelivery({
      incidentId,
      userId: suite.pd.alice.id,
      triggerId: suite.triggers.approve,
      event: { occurred_at: new Date(Date.now() + hours * 3600_000).toISOString() },
    });
    assert.equal(await suite.world.pagerduty.deliver(delivery), 400, `${hours} h`);
  }
  assert.equal(incidentReads(suite, incidentId), 0);
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
});

Deno.test("a duplicate delivery (same webhook id and event) is acknowledged and not processed again", async () => {
  await using suite = await startReviewSuite();
  const { incidentId } = await suite.request();
  const { eventId } = await suite.world.pagerduty.pressWorkflowTrigger({
    incidentId,
    userId: suite.pd.alice.id,
    triggerId: suite.triggers.approve,
  });
  // PagerDuty retries: same event, new delivery attempt with the same X-Webhook-Id.
  const [again] = suite.world.pagerduty.workflowDelivery({
    incidentId,
    userId: suite.pd.alice.id,
    triggerId: suite.triggers.approve,
    event: { id: eventId },
  });
  assert.equal(await suite.world.pagerduty.deliver(again), 200);
  assert.equal((await suite.outcome(eventId)).result, "reviewed");
  assert.equal(suite.main.outcomes.length, 1);
  assert.equal(suite.world.teleport.reviewLog().length, 1);
});

Deno.test("an incident of another PagerDuty account (404 with our key) changes nothing", async () => {
  await using suite = await startReviewSuite();
  const { requestId } = await suite.request();
  const status = await deliverSigned(suite, {
    id: "PEVFOREIGN1",
    agent: { id: suite.pd.alice.id, type: "user_reference" },
    data: { workflow_trigger: { id: suite.triggers.approve }, incident: { id: "Q0THERACCT" } },
  });
  assert.equal(status, 202);
  const outcome = await suite.outcome("PEVFOREIGN1");
  assert.equal(outcome.result, "ignored");
  assert.match(outcome.detail, /not visible with the plugin's API key/);
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "PENDING");
});

Deno.test("an incident whose key names a request that recorded another incident changes nothing", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  // Someone creates a look-alike incident with the request's key on another service.
  const other = suite.world.pagerduty.addService({ name: "Elsewhere" });
  const response = await fetch(`${suite.world.pagerduty.url}/incidents`, {
    method: "POST",
    headers: {
      "authorization": `Token token=${suite.world.pagerduty.apiKey}`,
      "accept": "application/vnd.pagerduty+json;version=2",
      "content-type": "application/json",
      "from": "someone@example.com",
    },
    body: JSON.stringify({
      incident: {
        type: "incident",
        title: "look-alike",
        service: { id: other.id, type: "service_reference" },
        incident_key: `teleport-access-request/${requestId}`,
      },
    }),
  });
  const lookAlike = (await response.json()).incident.id;
  assert.notEqual(lookAlike, incidentId);
  assert.equal(
    await deliverSigned(suite, {
      id: "PEVLOOKALIKE",
      agent: { id: suite.pd.alice.id, type: "user_reference" },
      data: { workflow_trigger: { id: suite.triggers.approve }, incident: { id: lookAlike } },
    }),
    202,
  );
  const outcome = await suite.outcome("PEVLOOKALIKE");
  assert.equal(outcome.result, "ignored");
  assert.match(outcome.detail, /does not record incident/);
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
  assert.deepEqual(notes(suite, lookAlike), []);
});

Deno.test("a request already resolved is not reviewed; the incident gets a note saying so", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  suite.world.teleport.setState(requestId, "DENIED", "no");
  const outcome = await press(suite, incidentId, suite.pd.alice.id, "approve");
  assert.equal(outcome.result, "refused");
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
  assert.ok(
    notes(suite, incidentId).includes(
      `The approve action by Alice (${suite.pd.alice.id}) via PagerDuty was not applied: the access request is already denied`,
    ),
  );
});

Deno.test("an unmapped PagerDuty user gets no review, and a note says why", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  const outcome = await press(suite, incidentId, suite.pd.dave.id, "approve");
  assert.equal(outcome.result, "refused");
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "PENDING");
  assert.ok(
    notes(suite, incidentId).some((n) =>
      n.endsWith(`no Teleport user has trait pagerduty_user_id = ${suite.pd.dave.id}`)
    ),
  );
});

Deno.test("email matching applies only when enabled, and only without a trait match", async () => {
  await using suite = await startReviewSuite({ review: { matchEmail: true } });
  suite.world.teleport.addUser("dave@example.com", { roles: ["reviewer"] });
  suite.world.teleport.setReviewer("dave@example.com", ["editor"]);
  const { incidentId } = await suite.request();
  const outcome = await press(suite, incidentId, suite.pd.dave.id, "approve");
  assert.equal(outcome.result, "reviewed", outcome.detail);
  assert.equal(outcome.teleportUser, "dave@example.com");
});

Deno.test("a user whose Teleport role may not review the requested role is refused by Teleport", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  const outcome = await press(suite, incidentId, suite.pd.bob.id, "approve");
  assert.equal(outcome.result, "refused");
  assert.match(
    outcome.detail,
    new RegExp(`Teleport refused the review: user "${BOB}" cannot review request`),
  );
  assert.deepEqual(suite.world.teleport.reviewLog(), []);
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "PENDING");
  assert.ok(notes(suite, incidentId).some((n) => n.includes("Teleport refused the review")));
});

Deno.test("the requester cannot approve their own request from PagerDuty", async () => {
  await using suite = await startReviewSuite();
  const { requestId, incidentId } = await suite.request();
  const outcome = await press(suite, incidentId, suite.pd.carol.id, "approve");
  assert.equal(outcome.result, "refused");
  assert.match(outcome.detail, new RegExp(`user "${REQUESTER}" cannot review request`));
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "PENDING");
});

Deno.test("two instances receiving the same delivery make one review and one note", async () => {
  await using suite = await startReviewSuite();
  const second = await suite.startInstance();
  const { requestId, incidentId } = await suite.request();
  const { eventId } = await suite.world.pagerduty.pressWorkflowTrigger({
    incidentId,
    userId: suite.pd.alice.id,
    triggerId: suite.triggers.approve,
  });
  // The same delivery also reaches the second instance (e.g. a retry through a load balancer).
  const [copy] = suite.world.pagerduty.workflowDelivery({
    incidentId,
    userId: suite.pd.alice.id,
    triggerId: suite.triggers.approve,
    event: { id: eventId, occurred_at: new Date().toISOString() },
  });
  assert.equal(await suite.world.pagerduty.deliver({ ...copy, url: suite.webhookUrl(second) }), 202);
  const results = [(await suite.outcome(eventId)).result, (await suite.outcome(eventId, second)).result]
    .sort();
  assert.deepEqual(results, ["duplicate", "reviewed"]);
  assert.equal(suite.world.teleport.reviewLog().length, 1);
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "APPROVED");
  // The core's own review and resolution notes quote the review's reason; ours is counted here.
  assert.equal(notes(suite, incidentId).filter((n) => n.startsWith("Access request approved by")).length, 1);
});

Deno.test("with a threshold of two, the first approval from PagerDuty leaves the request pending", async () => {
  await using suite = await startReviewSuite();
  const requestId = suite.world.teleport.createRequest({
    user: REQUESTER,
    roles: ["editor"],
    thresholds: { approve: 2, deny: 1 },
    systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications"] },
  });
  const incidentId = await eventually(
    "the incident",
    () => suite.world.teleport.pluginData(requestId, "pagerduty")?.incident_id,
  );
  assert.equal((await press(suite, incidentId, suite.pd.alice.id, "approve")).result, "reviewed");
  assert.equal(suite.world.teleport.getRequest(requestId)?.state, "PENDING");
  // A second click by the same person: Teleport's one-review-per-author rule answers.
  const again = await press(suite, incidentId, suite.pd.alice.id, "approve");
  assert.equal(again.result, "refused");
  assert.match(again.detail, /has already reviewed this request/);
});

Deno.test("floods, wrong methods, content types and oversized bodies are refused early", async () => {
  await using suite = await startReviewSuite();
  const url = suite.webhookUrl();
  const get = await fetch(url);
  await get.body?.cancel();
  assert.equal(get.status, 405);
  assert.equal(get.headers.get("allow"), "POST");
  const text = await fetch(url, { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" });
  await text.body?.cancel();
  assert.equal(text.status, 415);
  const big = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "x".repeat(MAX_BODY_BYTES + 1),
  });
  await big.body?.cancel();
  assert.equal(big.status, 413);
  const unknown = await fetch(`http://127.0.0.1:${suite.main.port}/approve`, { method: "POST" });
  await unknown.body?.cancel();
  assert.equal(unknown.status, 404);
  let limited = 0;
  for (let i = 0; i < 40; i++) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    await response.body?.cancel();
    if (response.status === 429) {
      limited++;
      assert.ok(Number(response.headers.get("retry-after")) >= 1);
    }
  }
  assert.ok(limited > 0, "a flood from one source meets 429s");
});

Deno.test("startup refuses [review] on a Teleport without reviews on behalf of users", async () => {
  await using suite = await startReviewSuite();
  await suite.main.running.stop();
  suite.world.teleport.ping.serverVersion = "17.4.8";
  await assert.rejects(suite.world.startPlugin(), /\[review\] needs Teleport 18 or newer.*17\.4\.8/);
  suite.world.teleport.ping.serverVersion = "18.1.0";
  suite.world.teleport.onBehalfSupported = false;
  await assert.rejects(
    suite.world.startPlugin(),
    /\[review\] cannot be enabled: Teleport refused a review on behalf of a user \(user "plugin" cannot submit reviews on behalf of/,
  );
});

Deno.test("startup refuses [review] when the plugin's role lacks review_requests.submit_for_users", async () => {
  await using suite = await startReviewSuite();
  await suite.main.running.stop();
  suite.world.teleport.setSubmitForUsers(PLUGIN_USER, []);
  await assert.rejects(
    suite.world.startPlugin(),
    /grant the plugin's role review_requests\.submit_for_users/,
  );
});

Deno.test("nothing listens when [review] is off", async () => {
  await using suite = await startReviewSuite();
  await suite.main.running.stop();
  const port = suite.main.port;
  suite.world.config.review = { ...suite.world.config.review!, enabled: false };
  let listened = false;
  await suite.world.startPlugin({ review: { onListen: () => listened = true } });
  assert.equal(listened, false);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/pagerduty/webhook`, { method: "POST" }));
});

Deno.test("with tls_cert_file and tls_key_file the listener speaks https; an unreadable file stops the start", async () => {
  await using suite = await startReviewSuite();
  await suite.main.running.stop();
  const { certPem, keyPem } = await suite.world.teleport.pki.issueServerCert([{
    type: "ip",
    value: "127.0.0.1",
  }]);
  const tlsCertFile = join(suite.world.dir, "review.crt");
  const tlsKeyFile = join(suite.world.dir, "review.key");
  await Deno.writeTextFile(tlsCertFile, certPem);
  await Deno.writeTextFile(tlsKeyFile, keyPem, { mode: 0o600 });
  suite.world.config.review = {
    ...suite.world.config.review!,
    tlsCertFile: join(suite.world.dir, "missing.crt"),
    tlsKeyFile,
  };
  await assert.rejects(suite.world.startPlugin(), /cannot read .*missing\.crt \(review\.tls_cert_file\)/);
  suite.world.config.review = { ...suite.world.config.review!, tlsCertFile };
  const instance = await suite.startInstance();
  using client = Deno.createHttpClient({ caCerts: [suite.world.teleport.pki.caPem] });
  const response = await fetch(`https://127.0.0.1:${instance.port}/pagerduty/webhook`, { client });
  await response.body?.cancel();
  assert.equal(response.status, 405);
});

Deno.test("two instances receiving a delivery that must be refused post one note", async () => {
  await using suite = await startReviewSuite();
  const second = await suite.startInstance();
  const { incidentId } = await suite.request();
  const { eventId } = await suite.world.pagerduty.pressWorkflowTrigger({
    incidentId,
    userId: suite.pd.dave.id,
    triggerId: suite.triggers.approve,
  });
  const [copy] = suite.world.pagerduty.workflowDelivery({
    incidentId,
    userId: suite.pd.dave.id,
    triggerId: suite.triggers.approve,
    event: { id: eventId },
  });
  assert.equal(await suite.world.pagerduty.deliver({ ...copy, url: suite.webhookUrl(second) }), 202);
  const results = [(await suite.outcome(eventId)).result, (await suite.outcome(eventId, second)).result]
    .sort();
  assert.deepEqual(results, ["duplicate", "refused"]);
  assert.equal(notes(suite, incidentId).filter((n) => n.includes("was not applied")).length, 1);
});
