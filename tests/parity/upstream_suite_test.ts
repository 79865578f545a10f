/**
 * The Go plugin's integration suite (spec §7.2 / §7.3), scenario by scenario,
 * against the real plugin over real mTLS and HTTP. Each test asserts exact counts.
 */
import assert from "node:assert/strict";
import { eventually, PLUGIN_USER } from "../../src/doubles/world.ts";
import {
  REQUESTER,
  REQUESTER1,
  REQUESTER2,
  REVIEWER1,
  REVIEWER2,
  startSuite,
  type Suite,
} from "./fixtures.ts";

const TWO_OF_EACH = { approve: 2, deny: 2 };

function incidentsFor(suite: Suite, requestId: string) {
  return suite.world.pagerduty.incidents().filter((i) =>
    i.incidentKey === `teleport-access-request/${requestId}`
  );
}

Deno.test("IncidentCreation: a pending request opens one incident in the notify service", async () => {
  await using suite = await startSuite();
  const id = suite.request();
  const data = await suite.pluginData(id, (d) => d.incident_id !== undefined);
  const incident = await suite.incidentOf(id);
  assert.equal(suite.world.pagerduty.incidents().length, 1);
  assert.equal(incident.id, data.incident_id);
  assert.equal(data.service_id, suite.notifyService.id);
  assert.equal(incident.serviceId, suite.notifyService.id);
  assert.equal(incident.incidentKey, `teleport-access-request/${id}`);
  assert.equal(incident.status, "triggered");
  assert.equal(incident.title, `Access request from ${REQUESTER}`);
  assert.match(
    String(incident.details),
    new RegExp(`^${REQUESTER} requested permissions for roles editor on Teleport at `),
  );
  assert.match(String(incident.details), /\nReason: because of\n/);
  assert.match(
    String(incident.details),
    new RegExp(`proceed to https://teleport\\.example\\.com/web/requests/${id}\\n$`),
  );
});

for (
  const [name, state, tag, reason] of [
    ["Approval", "APPROVED", "approved", "okay"],
    ["Denial", "DENIED", "denied", "not okay"],
  ] as const
) {
  Deno.test(`${name}: resolving the request posts the resolution and resolves the incident`, async () => {
    await using suite = await startSuite();
    const id = suite.request();
    const incident = await suite.incidentOf(id);
    suite.world.teleport.setState(id, state, reason);
    await suite.world.pagerduty.waitFor(() => suite.world.pagerduty.incidents()[0].status === "resolved");
    const notes = suite.world.pagerduty.notes(incident.id);
    assert.equal(notes.length, 1);
    assert.equal(notes[0].content, `Access request has been ${tag}\nReason: ${reason}`);
    const data = await suite.pluginData(id, (d) => d.resolution === tag);
    assert.equal(data.resolve_reason, reason);
  });
}

Deno.test("Expiration: a deleted request resolves its incident as expired", async () => {
  await using suite = await startSuite();
  const id = suite.request();
  const incident = await suite.incidentOf(id);
  suite.world.teleport.deleteRequest(id);
  await suite.world.pagerduty.waitFor(() => suite.world.pagerduty.incidents()[0].status === "resolved");
  const notes = suite.world.pagerduty.notes(incident.id);
  assert.deepEqual(notes.map((n) => n.content), ["Access request has been expired\n"]);
});

Deno.test("ReviewNotes: every review becomes a note, in order", async () => {
  await using suite = await startSuite();
  const id = suite.request({ user: REQUESTER1, thresholds: TWO_OF_EACH, systemAnnotations: notifyOnly() });
  const incident = await suite.incidentOf(id);
  suite.world.teleport.review(REVIEWER1, id, "APPROVED", "okay");
  suite.world.teleport.review(REVIEWER2, id, "DENIED", "not okay");
  await suite.pluginData(id, (d) => d.reviews_count === "2");
  const notes = await eventually("two notes", () => {
    const n = suite.world.pagerduty.notes(incident.id);
    return n.length === 2 && n;
  });
  assert.match(
    notes[0].content,
    new RegExp(`^${REVIEWER1} reviewed the request at .+\\.\\nResolution: APPROVED\\.\\n`),
  );
  assert.match(notes[0].content, /Reason: okay\.$/);
  assert.match(notes[1].content, new RegExp(`^${REVIEWER2} reviewed the request at `));
  assert.match(notes[1].content, /Resolution: DENIED\.\nReason: not okay\.$/);
  assert.equal(suite.world.teleport.getRequest(id)?.state, "PENDING");
});

for (
  const [name, verdict, tag, first, last] of [
    ["ApprovalByReview", "APPROVED", "approved", "okay", "finally okay"],
    ["DenialByReview", "DENIED", "denied", "not okay", "finally not okay"],
  ] as const
) {
  Deno.test(`${name}: the deciding review resolves the incident after both review notes`, async () => {
    await using suite = await startSuite();
    const id = suite.request({ user: REQUESTER1, thresholds: TWO_OF_EACH, systemAnnotations: notifyOnly() });
    const incident = await suite.incidentOf(id);
    suite.world.teleport.review(REVIEWER1, id, verdict, first);
    await eventually("first note", () => suite.world.pagerduty.notes(incident.id).length === 1);
    suite.world.teleport.review(REVIEWER2, id, verdict, last);
    await suite.world.pagerduty.waitFor(() => suite.world.pagerduty.incidents()[0].status === "resolved");
    const data = await suite.pluginData(id, (d) => d.resolution === tag);
    assert.equal(data.reviews_count, "2");
    assert.equal(data.resolve_reason, last);
    const notes = suite.world.pagerduty.notes(incident.id).map((n) => n.content);
    assert.equal(notes.length, 3);
    assert.match(notes[0], new RegExp(`^${REVIEWER1} reviewed the request`));
    assert.match(notes[1], new RegExp(`^${REVIEWER2} reviewed the request`));
    assert.equal(notes[2], `Access request has been ${tag}\nReason: ${last}`);
  });
}

/** Waits until the plugin has decided on auto-approval for the request. */
async function approvalDecided(suite: Suite, id: string) {
  await suite.pluginData(id, (d) => d.approval_checked === "true");
}

Deno.test("AutoApprovalWhenNotOnCall: a known PagerDuty user who is not on call is not approved", async () => {
  await using suite = await startSuite();
  suite.world.pagerduty.addUser({ name: "Test User", email: REQUESTER });
  const id = suite.request();
  await approvalDecided(suite, id);
  const request = suite.world.teleport.getRequest(id)!;
  assert.equal(request.state, "PENDING");
  assert.equal(request.reviews.length, 0);
  assert.equal(suite.world.teleport.reviewsSubmittedBy(PLUGIN_USER).length, 0);
});

for (
  const [name, policyIndex] of [["AutoApprovalWhenOnCall", 0], [
    "AutoApprovalWhenOnCallInSecondPolicy",
    1,
  ]] as const
) {
  Deno.test(`${name}: a requester on call in an annotated service is approved by the plugin`, async () => {
    await using suite = await startSuite();
    const user = suite.world.pagerduty.addUser({ name: "Test User", email: REQUESTER });
    suite.world.pagerduty.addOnCall({ userId: user.id, escalationPolicyId: suite.policies[policyIndex] });
    const id = suite.request();
    const request = await eventually("approval", () => {
      const r = suite.world.teleport.getRequest(id);
      return r?.state === "APPROVED" && r;
    });
    assert.equal(request.reviews.length, 1);
    assert.equal(request.reviews[0].author, PLUGIN_USER);
    assert.equal(request.reviews[0].proposedState, "APPROVED");
    const service = policyIndex === 0 ? "Service 1" : "Service 2";
    assert.equal(
      request.reviews[0].reason,
      `Access requested by user Test User (${REQUESTER}) who is on call in service(s) ${service}`,
    );
  });
}

Deno.test("AutoApprovalWhenOnCallInSomeOtherPolicy: on call only outside the annotated services is not enough", async () => {
  await using suite = await startSuite();
  const user = suite.world.pagerduty.addUser({ name: "Test User", email: REQUESTER });
  suite.world.pagerduty.addOnCall({ userId: user.id, escalationPolicyId: suite.policies[2] });
  const id = suite.request();
  await approvalDecided(suite, id);
  assert.equal(suite.world.teleport.getRequest(id)?.state, "PENDING");
  assert.equal(suite.world.teleport.reviewsSubmittedBy(PLUGIN_USER).length, 0);
});

Deno.test("Race: racing requests each get one incident and exactly three notes", async () => {
  await using suite = await startSuite();
  const racer = suite.world.pagerduty.addUser({ name: "Mr Racer", email: REQUESTER2 });
  suite.world.pagerduty.addOnCall({ userId: racer.id, escalationPolicyId: suite.policies[0] });
  const raceNumber = 8;
  const ids = Array.from({ length: raceNumber }, (_, i) =>
    suite.request({
      // racer2 is auto-approved and needs one human approval; racer1 needs two denials.
      user: i % 2 === 0 ? REQUESTER2 : REQUESTER1,
      thresholds: TWO_OF_EACH,
    }));
  await eventually("incidents", () => suite.world.pagerduty.incidents().length === raceNumber);
  for (const [i, id] of ids.entries()) {
    if (i % 2 === 0) {
      await eventually("plugin approval", () => suite.world.teleport.getRequest(id)?.reviews.length === 1);
      suite.world.teleport.review(REVIEWER1, id, "APPROVED", "okay");
    } else {
      suite.world.teleport.review(REVIEWER1, id, "DENIED", "not okay");
      suite.world.teleport.review(REVIEWER2, id, "DENIED", "not okay");
    }
  }
  await eventually(
    "all resolved",
    () => suite.world.pagerduty.incidents().every((i) => i.status === "resolved"),
  );
  for (const [i, id] of ids.entries()) {
    const [incident] = incidentsFor(suite, id);
    assert.equal(incidentsFor(suite, id).length, 1);
    const notes = await eventually(`three notes on ${id}`, () => {
      const n = suite.world.pagerduty.notes(incident.id);
      return n.length >= 3 && n;
    });
    assert.equal(notes.length, 3, `notes of ${id}`);
    assert.equal(suite.world.teleport.getRequest(id)?.state, i % 2 === 0 ? "APPROVED" : "DENIED");
  }
  assert.equal(suite.world.pagerduty.incidents().length, raceNumber);
  assert.equal(suite.world.pagerduty.violations.length, 0);
});

function notifyOnly(): Record<string, string[]> {
  return { pagerduty_notify_service: ["Teleport Notifications"] };
}
