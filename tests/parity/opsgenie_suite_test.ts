/**
 * Upstream's Opsgenie integration suite (spec §1.9: testlib/suite.go), test by test,
 * against the real teleport-opsgenie over real mTLS and HTTP, on Opsgenie's API and on
 * JSM Operations'. Fixtures are upstream's: notify schedules "Teleport Notifications One"
 * and "Two", approval schedule "Teleport Approval", team "My Team", and a schedule whose
 * on-call responders are a requester and "Not a Teleport user". Every test also checks
 * that the API double saw no contract violation.
 */
import assert from "node:assert/strict";
import { eventually, PLUGIN_USER } from "../../src/doubles/world.ts";
import { type AlertApi, type OpsgenieWorld, startOpsgenieWorld } from "../../src/doubles/opsgenie_world.ts";
import type { DoubleAlert } from "../../src/doubles/alert_store.ts";

const REQUESTER = "requester-oss@example.com";
const REQUESTER1 = "requester1@example.com";
const REVIEWER1 = "reviewer1@example.com";
const REVIEWER2 = "reviewer2@example.com";
const NOT_A_TELEPORT_USER = "Not a Teleport user";
const TWO_OF_EACH = { approve: 2, deny: 2 };

interface Suite extends AsyncDisposable {
  world: OpsgenieWorld;
  notify: string[];
  approval: string;
  team: string;
  request(
    options?: { user?: string; teams?: boolean; approval?: boolean; thresholds?: typeof TWO_OF_EACH },
  ): string;
  pluginData(id: string, probe: (d: Record<string, string>) => boolean): Promise<Record<string, string>>;
  alertOf(id: string): Promise<DoubleAlert>;
  alert(id: string): DoubleAlert;
}

async function startSuite(api: AlertApi, onCall: string[] = [NOT_A_TELEPORT_USER]): Promise<Suite> {
  const world = await startOpsgenieWorld(api, {
    advancedAccessWorkflows: true,
    proxyPublicAddr: "teleport.example.com:443",
  });
  const notify = [
    world.addSchedule("Teleport Notifications One"),
    world.addSchedule("Teleport Notifications Two"),
  ];
  const approval = world.addSchedule("Teleport Approval", onCall);
  const team = world.teamRef("My Team");
  for (const reviewer of [PLUGIN_USER, REVIEWER1, REVIEWER2]) {
    world.teleport.setReviewer(reviewer, ["editor"]);
  }
  await world.startPlugin();
  const alias = (id: string) => `teleport-access-request/${id}`;
  const alert = (id: string) => world.alerts.alertByAlias(alias(id))!;
  return {
    world,
    notify,
    approval,
    team,
    request({ user = REQUESTER, teams = false, approval: approve = false, thresholds } = {}) {
      const systemAnnotations: Record<string, string[]> = { "teleport.dev/notify-services": notify };
      if (teams) systemAnnotations["teleport.dev/teams"] = [team];
      if (approve) systemAnnotations["teleport.dev/schedules"] = [approval];
      return world.teleport.createRequest({
        user,
        roles: ["editor"],
        reason: "because of",
        systemAnnotations,
        thresholds,
      });
    },
    pluginData(id, probe) {
      return eventually(`plugin data of ${id}`, () => {
        const data = world.teleport.pluginData(id, "opsgenie");
        return data && probe(data) ? data : undefined;
      });
    },
    alertOf: (id) => eventually(`alert of ${id}`, () => world.alerts.alertByAlias(alias(id))),
    alert,
    async [Symbol.asyncDispose]() {
      try {
        assert.deepEqual(world.alerts.violations, [], "contract violations");
      } finally {
        await world[Symbol.asyncDispose]();
      }
    },
  };
}

/** How the alert names a responder: by id on JSM, by name on Opsgenie. */
const responder = (suite: Suite, type: string, ref: string): Record<string, string> =>
  suite.world.api === "jsm" ? { type, id: ref } : { type, name: ref };

for (const api of ["opsgenie", "jsm"] as const) {
  Deno.test(`[${api}] TestAlertCreationForSchedules: one alert for the notify schedules, its id in plugin data`, async () => {
    await using suite = await startSuite(api);
    const id = suite.request();
    const data = await suite.pluginData(id, (d) => d.alert_id !== undefined && d.alert_id !== "");
    const alert = await suite.alertOf(id);
    assert.equal(suite.world.alerts.alerts().length, 1);
    assert.equal(data.alert_id, alert.id);
    assert.equal(alert.message, `Access request from ${REQUESTER}`);
    assert.deepEqual(alert.responders, suite.notify.map((s) => responder(suite, "schedule", s)).sort(byRef));
    assert.match(
      alert.description,
      new RegExp(`^${REQUESTER} requested permissions for roles editor on Teleport at `),
    );
    assert.match(
      alert.description,
      new RegExp(`proceed to https://teleport\\.example\\.com/web/requests/${id}\\n$`),
    );
  });

  Deno.test(`[${api}] TestAlertCreationForTeams: the teams annotation adds the team to the one alert`, async () => {
    await using suite = await startSuite(api);
    const id = suite.request({ teams: true });
    await suite.pluginData(id, (d) => !!d.alert_id);
    const alert = await suite.alertOf(id);
    assert.equal(suite.world.alerts.alerts().length, 1);
    assert.deepEqual(alert.responders, [
      ...suite.notify.map((s) => responder(suite, "schedule", s)).sort(byRef),
      responder(suite, "team", suite.team),
    ]);
  });

  for (
    const [name, state, tag, reason] of [
      ["TestApproval", "APPROVED", "approved", "okay"],
      ["TestDenial", "DENIED", "denied", "not okay"],
    ] as const
  ) {
    Deno.test(`[${api}] ${name}: the resolution note, then the alert is closed`, async () => {
      await using suite = await startSuite(api);
      const id = suite.request();
      await suite.pluginData(id, (d) => !!d.alert_id);
      suite.world.teleport.setState(id, state, reason);
      await suite.world.alerts.waitFor(() => suite.alert(id).status === "closed");
      const notes = suite.alert(id).notes.map((n) => n.note);
      assert.deepEqual(notes, [`Access request has been ${tag}\nReason: ${reason}`]);
      const data = await suite.pluginData(id, (d) => d.resolution === tag);
      assert.equal(data.resolve_reason, reason);
    });
  }

  Deno.test(`[${api}] TestReviewNotes: every review becomes a note; reviews_count follows`, async () => {
    await using suite = await startSuite(api);
    const id = suite.request({ user: REQUESTER1, thresholds: TWO_OF_EACH });
    await suite.pluginData(id, (d) => !!d.alert_id);
    suite.world.teleport.review(REVIEWER1, id, "APPROVED", "okay");
    suite.world.teleport.review(REVIEWER2, id, "DENIED", "not okay");
    await suite.pluginData(id, (d) => d.reviews_count === "2");
    const notes = await eventually("two notes", () => {
      const n = suite.alert(id).notes.map((x) => x.note);
      return n.length === 2 && n;
    });
    assert.match(
      notes[0],
      new RegExp(`^${REVIEWER1} reviewed the request at .+\\.\\nResolution: APPROVED\\.\\nReason: okay\\.$`),
    );
    assert.match(
      notes[1],
      new RegExp(
        `^${REVIEWER2} reviewed the request at .+\\.\\nResolution: DENIED\\.\\nReason: not okay\\.$`,
      ),
    );
    assert.equal(suite.alert(id).status, "open");
  });

  for (
    const [name, verdict, tag, first, last] of [
      ["TestApprovalByReview", "APPROVED", "approved", "okay", "finally okay"],
      ["TestDenialByReview", "DENIED", "denied", "not okay", "finally not okay"],
    ] as const
  ) {
    Deno.test(`[${api}] ${name}: two review notes, the resolution note, the alert closed`, async () => {
      await using suite = await startSuite(api);
      const id = suite.request({ user: REQUESTER1, thresholds: TWO_OF_EACH });
      await suite.pluginData(id, (d) => !!d.alert_id);
      suite.world.teleport.review(REVIEWER1, id, verdict, first);
      await eventually("first note", () => suite.alert(id).notes.length === 1);
      suite.world.teleport.review(REVIEWER2, id, verdict, last);
      await suite.world.alerts.waitFor(() => suite.alert(id).status === "closed");
      const data = await suite.pluginData(id, (d) => d.resolution === tag);
      assert.equal(data.reviews_count, "2");
      assert.equal(data.resolve_reason, last);
      const notes = suite.alert(id).notes.map((n) => n.note);
      assert.equal(notes.length, 3);
      assert.match(notes[0], new RegExp(`^${REVIEWER1} reviewed the request`));
      assert.match(notes[1], new RegExp(`^${REVIEWER2} reviewed the request`));
      assert.equal(notes[2], `Access request has been ${tag}\nReason: ${last}`);
    });
  }

  Deno.test(`[${api}] TestAutoApprovalWhenNotOnCall: an alert, and no review`, async () => {
    await using suite = await startSuite(api, [NOT_A_TELEPORT_USER]);
    const id = suite.request({ approval: true });
    await suite.pluginData(id, (d) => d.approval_checked === "true" && !!d.alert_id);
    await suite.alertOf(id);
    const request = suite.world.teleport.getRequest(id)!;
    assert.equal(request.state, "PENDING");
    assert.equal(request.reviews.length, 0);
  });

  Deno.test(`[${api}] TestAutoApprovalWhenOnCall: exactly one APPROVED review, naming the requester`, async () => {
    await using suite = await startSuite(api, [REQUESTER, NOT_A_TELEPORT_USER]);
    const id = suite.request({ approval: true });
    const request = await eventually("approval", () => {
      const r = suite.world.teleport.getRequest(id);
      return r?.state === "APPROVED" && r;
    });
    assert.equal(request.reviews.length, 1);
    assert.equal(request.reviews[0].author, PLUGIN_USER);
    assert.equal(request.reviews[0].proposedState, "APPROVED");
    assert.equal(
      request.reviews[0].reason,
      `Access requested by user ${REQUESTER} who is on call on schedule(s) ${suite.approval}`,
    );
    await suite.alertOf(id);
  });
}

function byRef(a: Record<string, string>, b: Record<string, string>): number {
  return (a.id ?? a.name).localeCompare(b.id ?? b.name);
}
