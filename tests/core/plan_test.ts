import assert from "node:assert/strict";
import { isIdle, NOTHING, planWork, type RequestView } from "../../src/core/plan.ts";
import { EMPTY_STATE, type PluginState } from "../../src/core/plugin_data.ts";
import type { AccessRequest, AccessReview } from "../../src/core/types.ts";

function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: "req-1",
    user: "requester@example.com",
    roles: ["editor"],
    state: "PENDING",
    requestReason: "because of",
    resolveReason: "",
    systemAnnotations: {},
    reviews: [],
    suggestedReviewers: [],
    ...overrides,
  };
}

const review = (author: string): AccessReview => ({ author, proposedState: "APPROVED", reason: "okay" });
const live = (r: AccessRequest): RequestView => ({ kind: "live", request: r });
const state = (s: Partial<PluginState>): PluginState => ({ ...EMPTY_STATE, ...s });
const NOTIFY = ["Teleport Notifications"];

Deno.test("a new pending request owes an incident in each notify target", () => {
  const plan = planWork({
    view: live(request()),
    state: null,
    notifyTargets: ["A", "B"],
    approvalTargets: [],
  });
  assert.deepEqual(plan.createIncidents, ["A", "B"]);
  assert.equal(plan.approve, false);
});

Deno.test("a pending request with an incident owes only the reviews not yet posted", () => {
  const reviews = [review("r1"), review("r2"), review("r3")];
  const plan = planWork({
    view: live(request({ reviews })),
    state: state({ incidentId: "I1", target: "Teleport Notifications", reviewsCount: 1 }),
    notifyTargets: NOTIFY,
    approvalTargets: [],
  });
  assert.deepEqual(plan.createIncidents, []);
  assert.deepEqual(plan.notes, reviews.slice(1));
});

Deno.test("an incident created by the Go plugin (no target recorded) counts for the first target", () => {
  const plan = planWork({
    view: live(request()),
    state: state({ incidentId: "I1" }),
    notifyTargets: ["A", "B"],
    approvalTargets: [],
  });
  assert.deepEqual(plan.createIncidents, ["B"]);
});

Deno.test("the on-call check is owed once, when approval services are annotated", () => {
  const view = live(request());
  assert.equal(planWork({ view, state: null, notifyTargets: [], approvalTargets: ["S1"] }).approve, true);
  assert.equal(
    planWork({ view, state: state({ approvalChecked: true }), notifyTargets: [], approvalTargets: ["S1"] })
      .approve,
    false,
  );
  assert.ok(isIdle(planWork({ view, state: null, notifyTargets: [], approvalTargets: [] })));
});

Deno.test("without notify targets, reviews are not owed as notes", () => {
  const plan = planWork({
    view: live(request({ reviews: [review("r1")] })),
    state: null,
    notifyTargets: [],
    approvalTargets: ["S1"],
  });
  assert.deepEqual(plan.notes, []);
});

Deno.test("an approved request with an open incident owes its notes, then the resolution", () => {
  const plan = planWork({
    view: live(request({ state: "APPROVED", resolveReason: "okay", reviews: [review("r1")] })),
    state: state({ incidentId: "I1", target: "Teleport Notifications" }),
    notifyTargets: NOTIFY,
    approvalTargets: [],
  });
  assert.deepEqual(plan.notes.length, 1);
  assert.deepEqual(plan.resolve, { tag: "approved", reason: "okay" });
});

Deno.test("denied and promoted map to their tags", () => {
  for (const [teleportState, tag] of [["DENIED", "denied"], ["PROMOTED", "promoted"]] as const) {
    const plan = planWork({
      view: live(request({ state: teleportState })),
      state: state({ incidentId: "I1" }),
      notifyTargets: NOTIFY,
      approvalTargets: [],
    });
    assert.equal(plan.resolve?.tag, tag);
  }
});

Deno.test("a resolved request the plugin never took on owes nothing", () => {
  const plan = planWork({
    view: live(request({ state: "APPROVED" })),
    state: null,
    notifyTargets: NOTIFY,
    approvalTargets: ["S1"],
  });
  assert.deepEqual(plan, NOTHING);
});

Deno.test("an already resolved incident owes nothing, whatever happens next", () => {
  const done = state({ incidentId: "I1", resolution: "approved" });
  assert.ok(
    isIdle(
      planWork({ view: { kind: "gone", id: "req-1" }, state: done, notifyTargets: [], approvalTargets: [] }),
    ),
  );
});

Deno.test("a deleted request resolves its incident as expired, found from plugin data", () => {
  const plan = planWork({
    view: { kind: "gone", id: "req-1" },
    state: state({
      incidentId: "I1",
      target: "A",
      extraIncidents: [{ target: "B", serviceId: "S", incidentId: "I2" }],
    }),
    notifyTargets: [],
    approvalTargets: [],
  });
  assert.deepEqual(plan.resolve, { tag: "expired", reason: "" });
  assert.deepEqual(plan.createIncidents, []);
});

Deno.test("a claim whose incident was never created is completed before resolving", () => {
  const plan = planWork({
    view: { kind: "gone", id: "req-1" },
    state: state({ target: "A", user: "u@example.com" }),
    notifyTargets: [],
    approvalTargets: [],
  });
  assert.deepEqual(plan.createIncidents, ["A"]);
  assert.equal(plan.resolve?.tag, "expired");
});

Deno.test("a claim made only for the approval check owes no resolution", () => {
  const plan = planWork({
    view: live(request({ state: "APPROVED" })),
    state: state({ approvalChecked: true }),
    notifyTargets: [],
    approvalTargets: ["S1"],
  });
  assert.ok(isIdle(plan));
});

Deno.test("a NONE state request owes nothing", () => {
  const plan = planWork({
    view: live(request({ state: "NONE" })),
    state: state({ incidentId: "I1" }),
    notifyTargets: NOTIFY,
    approvalTargets: [],
  });
  assert.ok(isIdle(plan));
});
