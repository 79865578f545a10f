import assert from "node:assert/strict";
import { isIdle, NOTHING, planWork, type RequestView } from "../../src/core/plan.ts";
import { emptyState, type PluginState } from "../../src/core/state.ts";
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
const state = (s: Partial<PluginState>): PluginState => ({ ...emptyState(), ...s });
/** A recorded incident in service `key` (ids as PagerDuty's codec keeps them). */
const incident = (key: string, id: string) => ({ key, ids: { incident_id: id } });
const NOTIFY = ["Teleport Notifications"];

Deno.test("a new pending request owes an incident in each notify target", () => {
  const plan = planWork({
    view: live(request()),
    state: null,
    notificationKeys: ["A", "B"],
    approvalRecipients: [],
  });
  assert.deepEqual(plan.notify, ["A", "B"]);
  assert.equal(plan.approve, false);
});

Deno.test("a pending request with an incident owes only the reviews not yet posted", () => {
  const reviews = [review("r1"), review("r2"), review("r3")];
  const plan = planWork({
    view: live(request({ reviews })),
    state: state({ notifications: [incident("Teleport Notifications", "I1")], reviewsCount: 1 }),
    notificationKeys: NOTIFY,
    approvalRecipients: [],
  });
  assert.deepEqual(plan.notify, []);
  assert.deepEqual(plan.notes, reviews.slice(1));
});

Deno.test("an incident created by the Go plugin (no target recorded) counts for the first target", () => {
  const plan = planWork({
    view: live(request()),
    state: state({ notifications: [incident("", "I1")] }),
    notificationKeys: ["A", "B"],
    approvalRecipients: [],
  });
  assert.deepEqual(plan.notify, ["B"]);
});

Deno.test("the on-call check is owed once, when approval services are annotated", () => {
  const view = live(request());
  assert.equal(
    planWork({ view, state: null, notificationKeys: [], approvalRecipients: ["S1"] }).approve,
    true,
  );
  assert.equal(
    planWork({
      view,
      state: state({ approvalChecked: true }),
      notificationKeys: [],
      approvalRecipients: ["S1"],
    })
      .approve,
    false,
  );
  assert.ok(isIdle(planWork({ view, state: null, notificationKeys: [], approvalRecipients: [] })));
});

Deno.test("without notify targets, reviews are not owed as notes", () => {
  const plan = planWork({
    view: live(request({ reviews: [review("r1")] })),
    state: null,
    notificationKeys: [],
    approvalRecipients: ["S1"],
  });
  assert.deepEqual(plan.notes, []);
});

Deno.test("an approved request with an open incident owes its notes, then the resolution", () => {
  const plan = planWork({
    view: live(request({ state: "APPROVED", resolveReason: "okay", reviews: [review("r1")] })),
    state: state({ notifications: [incident("Teleport Notifications", "I1")] }),
    notificationKeys: NOTIFY,
    approvalRecipients: [],
  });
  assert.deepEqual(plan.notes.length, 1);
  assert.deepEqual(plan.resolve, { tag: "approved", reason: "okay" });
});

Deno.test("denied and promoted map to their tags", () => {
  for (const [teleportState, tag] of [["DENIED", "denied"], ["PROMOTED", "promoted"]] as const) {
    const plan = planWork({
      view: live(request({ state: teleportState })),
      state: state({ notifications: [incident("", "I1")] }),
      notificationKeys: NOTIFY,
      approvalRecipients: [],
    });
    assert.equal(plan.resolve?.tag, tag);
  }
});

Deno.test("a resolved request the plugin never took on owes nothing", () => {
  const plan = planWork({
    view: live(request({ state: "APPROVED" })),
    state: null,
    notificationKeys: NOTIFY,
    approvalRecipients: ["S1"],
  });
  assert.deepEqual(plan, NOTHING);
});

Deno.test("an already resolved incident owes nothing, whatever happens next", () => {
  const done = state({ notifications: [incident("A", "I1")], resolution: "approved" });
  assert.ok(
    isIdle(
      planWork({
        view: { kind: "gone", id: "req-1" },
        state: done,
        notificationKeys: [],
        approvalRecipients: [],
      }),
    ),
  );
});

Deno.test("a deleted request resolves its incident as expired, found from plugin data", () => {
  const plan = planWork({
    view: { kind: "gone", id: "req-1" },
    state: state({ notifications: [incident("A", "I1"), incident("B", "I2")] }),
    notificationKeys: ["A", "B"],
    approvalRecipients: [],
  });
  assert.deepEqual(plan.resolve, { tag: "expired", reason: "" });
  assert.deepEqual(plan.notify, []);
});

Deno.test("a claim whose incident was never created is completed before resolving", () => {
  const plan = planWork({
    view: { kind: "gone", id: "req-1" },
    state: state({ recipients: ["A"], user: "u@example.com" }),
    notificationKeys: ["A"],
    approvalRecipients: [],
  });
  assert.deepEqual(plan.notify, ["A"]);
  assert.equal(plan.resolve?.tag, "expired");
});

Deno.test("a claim made only for the approval check owes no resolution, only to be marked finished", () => {
  const plan = planWork({
    view: live(request({ state: "APPROVED" })),
    state: state({ approvalChecked: true }),
    notificationKeys: [],
    approvalRecipients: ["S1"],
  });
  assert.deepEqual(plan, { ...NOTHING, finish: true });
});

Deno.test("a request marked finished owes nothing, even when it resolves later", () => {
  const plan = planWork({
    view: live(request({ state: "DENIED" })),
    state: state({ notifications: [incident("A", "I1")], finished: true }),
    notificationKeys: ["A"],
    approvalRecipients: [],
  });
  assert.deepEqual(plan, NOTHING);
});

Deno.test("a NONE state request owes nothing", () => {
  const plan = planWork({
    view: live(request({ state: "NONE" })),
    state: state({ notifications: [incident("", "I1")] }),
    notificationKeys: NOTIFY,
    approvalRecipients: [],
  });
  assert.ok(isIdle(plan));
});
