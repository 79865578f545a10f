import assert from "node:assert/strict";
import {
  decodePluginState,
  encodePluginState,
  GO_KEYS,
  incidentNotification,
} from "../../../src/backends/pagerduty/plugin_data.ts";
import { emptyState, type PluginState } from "../../../src/core/state.ts";

const EMPTY_STATE = emptyState();

// The upstream plugindata_test.go sample: 2021-06-01 13:27:17 UTC.
const SAMPLE: PluginState = {
  ...EMPTY_STATE,
  notifications: [incidentNotification("", "SERVICE1", "INCIDENT1")],
  user: "user-foo",
  roles: ["role-foo", "role-bar"],
  created: 1622554037,
  requestReason: "foo reason",
  reviewsCount: 3,
  resolution: "approved",
  resolveReason: "foo ok",
};

const SAMPLE_GO_MAP: Record<string, string> = {
  incident_id: "INCIDENT1",
  service_id: "SERVICE1",
  user: "user-foo",
  roles: "role-foo,role-bar",
  created: "1622554037",
  request_reason: "foo reason",
  reviews_count: "3",
  resolution: "approved",
  resolve_reason: "foo ok",
};

Deno.test("encoding writes the Go plugin's nine keys with its encodings", () => {
  const encoded = encodePluginState(SAMPLE);
  for (const key of GO_KEYS) assert.equal(encoded[key], SAMPLE_GO_MAP[key], key);
});

Deno.test("a map written by the Go plugin decodes to the same request data", () => {
  assert.deepEqual(decodePluginState(SAMPLE_GO_MAP), SAMPLE);
});

Deno.test("an empty state encodes every Go key as empty, which deletes it in Teleport", () => {
  const encoded = encodePluginState(EMPTY_STATE);
  for (const key of GO_KEYS) assert.equal(encoded[key], "", key);
  assert.ok(Object.values(encoded).every((v) => v === ""));
});

Deno.test("a missing or empty map decodes to the empty state", () => {
  assert.deepEqual(decodePluginState(null), EMPTY_STATE);
  assert.deepEqual(decodePluginState({}), EMPTY_STATE);
});

Deno.test("our additions round-trip in keys the Go plugin never writes", () => {
  const state: PluginState = {
    ...SAMPLE,
    notifications: [
      incidentNotification("Teleport Notifications", "SERVICE1", "INCIDENT1"),
      incidentNotification("Second", "S2", "I2"),
    ],
    recipients: ["Teleport Notifications", "Second"],
    lease: "host-1@1700000000000",
    resolutionNoted: true,
    approvalChecked: true,
    verifyNotes: true,
    finished: true,
    failure: "failed to find pagerduty service by name Third",
  };
  const encoded = encodePluginState(state);
  assert.deepEqual(decodePluginState(encoded), state);
  const ours = ["target", "extra_incidents", "recipients", "lease", "verify_notes", "finished", "failure"];
  assert.ok(!GO_KEYS.some((k: string) => ours.includes(k)));
});

Deno.test("the extra incidents keep the format earlier versions wrote", () => {
  const encoded = encodePluginState({
    ...SAMPLE,
    notifications: [incidentNotification("A", "S1", "I1"), incidentNotification("B", "S2", "I2")],
  });
  assert.equal(encoded.target, "A");
  assert.equal(encoded.extra_incidents, '[{"target":"B","serviceId":"S2","incidentId":"I2"}]');
});

Deno.test("an unknown resolution or a hand-edited extra list decodes safely", () => {
  const state = decodePluginState({ resolution: "maybe", extra_incidents: "{not json" });
  assert.equal(state.resolution, "");
  assert.deepEqual(state.notifications, []);
});
