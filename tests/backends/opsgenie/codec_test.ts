/** Plugin data under `opsgenie`: upstream's App-path keys (spec §1.7) plus our extra keys. */
import assert from "node:assert/strict";
import { opsgenieCodec } from "../../../src/backends/opsgenie/mod.ts";
import { emptyState, type PluginState } from "../../../src/core/state.ts";

const FULL: PluginState = {
  ...emptyState(),
  notifications: [{ key: "", ids: { alertId: "alert-1", alias: "teleport-access-request/r1" } }],
  recipients: ["schedule:One", "team:My Team"],
  user: "alice@example.com",
  roles: ["editor", "auditor"],
  created: 1622554037,
  requestReason: "because",
  reviewsCount: 2,
  resolution: "approved",
  resolveReason: "finally okay",
  lease: "i1@1700000000000",
  resolutionNoted: true,
  approvalChecked: true,
  verifyNotes: true,
  finished: true,
  failure: "",
};

Deno.test("encode writes upstream's keys with upstream's encodings, plus ours", () => {
  assert.deepEqual(opsgenieCodec.encode(FULL), {
    alert_id: "alert-1",
    service_id: "",
    user: "alice@example.com",
    roles: "editor,auditor",
    created: "1622554037",
    request_reason: "because",
    reviews_count: "2",
    resolution: "approved",
    resolve_reason: "finally okay",
    alert_alias: "teleport-access-request/r1",
    recipients: '["schedule:One","team:My Team"]',
    lease: "i1@1700000000000",
    resolution_noted: "true",
    approval_checked: "true",
    verify_notes: "true",
    finished: "true",
    failure: "",
  });
});

Deno.test("decode inverts encode", () => {
  assert.deepEqual(opsgenieCodec.decode(opsgenieCodec.encode(FULL)), FULL);
  assert.deepEqual(opsgenieCodec.decode(opsgenieCodec.encode(emptyState())), emptyState());
});

Deno.test("data written by upstream's Go plugin decodes (no alias: notes then address the id)", () => {
  const state = opsgenieCodec.decode({
    alert_id: "a-1",
    service_id: "",
    user: "bob",
    roles: "r",
    created: "",
    request_reason: "",
    reviews_count: "",
    resolution: "",
    resolve_reason: "",
  });
  assert.deepEqual(state.notifications, [{ key: "", ids: { alertId: "a-1", alias: "" } }]);
  assert.equal(state.reviewsCount, 0);
  assert.equal(state.created, undefined);
});

Deno.test("an empty alert id means no alert yet (never an empty notification)", () => {
  assert.deepEqual(opsgenieCodec.decode({ user: "bob", alert_alias: "x" }).notifications, []);
});
