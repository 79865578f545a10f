/**
 * The Opsgenie backend as upstream's App path behaves (spec §1.3–§1.6), against the
 * contract-checked double: recipients, one alert for all responders, notes, close and
 * on-call auto-approval.
 */
import assert from "node:assert/strict";
import { OpsgenieBackend, type OpsgenieBackendOptions } from "../../../src/backends/opsgenie/mod.ts";
import type { AccessRequest } from "../../../src/core/types.ts";
import type { OpsgenieDouble } from "../../../src/doubles/opsgenie_double.ts";
import { calls, clientFor, withDouble } from "./helpers.ts";

const SIGNAL = new AbortController().signal;
const NOTIFY = "teleport.dev/notify-services";
const TEAMS = "teleport.dev/teams";
const APPROVE = "teleport.dev/schedules";
const SCHEDULE_ID = "9a8b7c6d-1111-4a7e-9d0e-1b2c3d4e5f60";

function request(annotations: Record<string, string[]> = {}, user = "alice@example.com"): AccessRequest {
  return {
    id: "0b9e4e2a-6c5f-4a7e-9d0e-1b2c3d4e5f60",
    user,
    roles: ["editor", "auditor"],
    state: "PENDING",
    created: new Date("2021-06-01T13:27:17Z"),
    requestReason: "because of",
    resolveReason: "",
    systemAnnotations: annotations,
    reviews: [],
    suggestedReviewers: [],
  };
}

function backendFor(og: OpsgenieDouble, options: Partial<OpsgenieBackendOptions> = {}) {
  const client = clientFor(og);
  return new OpsgenieBackend(client, { defaultSchedules: [], defaultTeams: [], tags: [], ...options });
}

Deno.test("recipients: schedules from notify-services, teams from teams, sorted and de-duplicated", () =>
  withDouble(async (og) => {
    const backend = backendFor(og, { defaultSchedules: ["Default"], defaultTeams: ["Default Team"] });
    const r = backend.recipientsOf(
      request({ [NOTIFY]: ["Two", "One", "Two"], [TEAMS]: ["My Team"], [APPROVE]: ["B", "A"] }),
    );
    assert.deepEqual(r.notify, ["schedule:One", "schedule:Two", "team:My Team"]);
    assert.deepEqual(r.approval, ["A", "B"]);
    await Promise.resolve();
  }));

Deno.test("recipients: the configured defaults when the request names no schedule and no team", () =>
  withDouble(async (og) => {
    const backend = backendFor(og, { defaultSchedules: ["Default"], defaultTeams: ["Default Team"] });
    assert.deepEqual(backend.recipientsOf(request()).notify, ["schedule:Default", "team:Default Team"]);
    assert.deepEqual(backend.recipientsOf(request({ [NOTIFY]: ["S"] })).notify, [
      "schedule:S",
      "team:Default Team",
    ]);
    await Promise.resolve();
  }));

Deno.test("recipients: Teleport v16 rule, an approval-only request gets no alert but keeps its approval check", () =>
  withDouble(async (og) => {
    const backend = backendFor(og, { defaultSchedules: ["Default"] });
    const r = backend.recipientsOf(request({ [APPROVE]: ["Teleport Approval"] }));
    assert.deepEqual(r.notify, []);
    assert.deepEqual(r.approval, ["Teleport Approval"]);
    assert.match(r.skipped.join(" "), /no teleport\.dev\/notify-services/);
    assert.deepEqual(backend.notificationKeys(["schedule:x", "team:y"]), [""]);
    await Promise.resolve();
  }));

Deno.test("notify opens one alert for all responders with upstream's texts, tags and priority", () =>
  withDouble(async (og) => {
    const backend = backendFor(og, { tags: ["TeleportAccessRequest"], priority: "P2" });
    const req = request();
    const n = await backend.notify(
      "",
      ["schedule:Teleport Notifications One", `schedule:${SCHEDULE_ID}`, "team:My Team"],
      req,
      "https://teleport.example.com/web/requests/" + req.id,
      SIGNAL,
    );
    const [alert] = og.alerts();
    assert.deepEqual(n, { key: "", ids: { alertId: alert.id, alias: `teleport-access-request/${req.id}` } });
    assert.equal(alert.message, "Access request from alice@example.com");
    assert.equal(
      alert.description,
      "alice@example.com requested permissions for roles editor, auditor on Teleport at 01 Jun 21 13:27 UTC.\n" +
        "Reason: because of\n" +
        `To approve or deny the request, proceed to https://teleport.example.com/web/requests/${req.id}\n`,
    );
    assert.deepEqual(alert.responders, [
      { type: "schedule", name: "Teleport Notifications One" },
      { type: "schedule", id: SCHEDULE_ID },
      { type: "team", name: "My Team" },
    ]);
    assert.deepEqual(alert.tags, ["TeleportAccessRequest"]);
    assert.equal(alert.priority, "P2");
    assert.deepEqual(backend.logFields(n), { opsgenie_alert_id: alert.id });
  }));

Deno.test("a notify-only request costs two Opsgenie calls", () =>
  withDouble(async (og) => {
    const backend = backendFor(og);
    await backend.notify("", ["schedule:S"], request(), undefined, SIGNAL);
    assert.equal(og.requests.length, 2);
    assert.deepEqual(calls(og)[0], "POST /v2/alerts");
  }));

Deno.test("a long user name and reason are truncated to Opsgenie's limits, never rejected", () =>
  withDouble(async (og) => {
    const backend = backendFor(og, {
      tags: ["t".repeat(80), ...Array.from({ length: 30 }, (_, i) => `tag-${i}`)],
    });
    const req = { ...request({}, `${"u".repeat(200)}@example.com`), requestReason: "r".repeat(20_000) };
    await backend.notify("", ["schedule:S"], req, undefined, SIGNAL);
    const [alert] = og.alerts();
    assert.equal([...alert.message].length, 130);
    assert.equal([...alert.description].length, 15_000);
    assert.equal(alert.tags.length, 20);
    assert.equal(alert.tags[0].length, 50);
  }));

Deno.test("review and resolution notes use upstream's texts; close follows the resolution note", () =>
  withDouble(async (og) => {
    const backend = backendFor(og);
    const n = await backend.notify("", ["schedule:S"], request(), undefined, SIGNAL);
    const review = {
      author: "bob@example.com",
      proposedState: "APPROVED" as const,
      reason: "ok",
      created: new Date("2021-06-01T14:00:00Z"),
    };
    await backend.annotate(n, { kind: "review", review }, { signal: SIGNAL, unlessPosted: false });
    const resolution = { tag: "approved" as const, reason: "okay" };
    await backend.annotate(n, { kind: "resolution", resolution }, { signal: SIGNAL, unlessPosted: false });
    await backend.resolve(n, resolution, SIGNAL);
    const [alert] = og.alerts();
    assert.deepEqual(alert.notes.map((x) => x.note), [
      "bob@example.com reviewed the request at 01 Jun 21 14:00 UTC.\nResolution: APPROVED.\nReason: ok.",
      "Access request has been approved\nReason: okay",
    ]);
    assert.equal(alert.status, "closed");
  }));

Deno.test("annotate with unlessPosted skips a note the alert already has", () =>
  withDouble(async (og) => {
    const backend = backendFor(og);
    const n = await backend.notify("", ["schedule:S"], request(), undefined, SIGNAL);
    const note = { kind: "would-approve" as const, reason: "on call" };
    await backend.annotate(n, note, { signal: SIGNAL, unlessPosted: true });
    await backend.annotate(n, note, { signal: SIGNAL, unlessPosted: true });
    assert.equal(og.alerts()[0].notes.length, 1);
  }));

Deno.test("findOnCall: on call in a schedule (by name or id), the reason names the requester", () =>
  withDouble(async (og) => {
    og.addSchedule({ name: "Teleport Approval", onCall: ["Not a Teleport user"] });
    og.addSchedule({ name: "Nights", id: SCHEDULE_ID, onCall: ["alice@example.com"] });
    const backend = backendFor(og);
    const result = await backend.findOnCall(request(), ["Teleport Approval", SCHEDULE_ID], SIGNAL);
    assert.deepEqual(result, {
      onCall: true,
      reason: `Access requested by user alice@example.com who is on call on schedule(s) ${SCHEDULE_ID}`,
    });
  }));

Deno.test("findOnCall: not on call, and no such schedule", () =>
  withDouble(async (og) => {
    og.addSchedule({ name: "Teleport Approval", onCall: ["Not a Teleport user"] });
    const backend = backendFor(og);
    assert.deepEqual(await backend.findOnCall(request(), ["Teleport Approval"], SIGNAL), {
      onCall: false,
      why: "user is not on call",
    });
    assert.deepEqual(await backend.findOnCall(request(), ["Nope"], SIGNAL), {
      onCall: false,
      why: "failed to find any schedule of Nope",
    });
  }));
