/**
 * Wire compatibility with Teleport's gogoproto encoding: the worked byte examples of
 * the reference notes on the Auth Service wire format (teleport-auth-grpc §2), in both directions.
 */
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { EventSchema } from "../../src/teleport/gen/teleport/legacy/client/proto/event_pb.ts";
import { WatchSchema } from "../../src/teleport/gen/teleport/legacy/client/proto/authservice_pb.ts";
import {
  AccessRequestV3Schema,
  AccessReviewSubmissionSchema,
  PluginDataUpdateParamsSchema,
  RequestState,
} from "../../src/teleport/gen/teleport/legacy/types/types_pb.ts";
import {
  accessRequestFromWire,
  decode,
  eventFromWire,
  GO_ZERO_TIME_SECONDS,
  pluginDataUpdateToWire,
  requiredTimeToWire,
  reviewSubmissionToWire,
  timeFromWire,
  watchKindsToWire,
} from "../../src/teleport/codec.ts";
import { deleteEvent, initEvent, withGogoDefaults } from "../../src/doubles/teleport_wire.ts";

/** Builds bytes from hex octets and quoted ASCII strings, as the spec writes them. */
function bytes(...parts: (string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const part of parts) {
    if (Array.isArray(part)) out.push(...part);
    else out.push(...new TextEncoder().encode(part));
  }
  return new Uint8Array(out);
}

function hex(text: string): number[] {
  return text.trim().split(/\s+/).map((octet) => parseInt(octet, 16));
}

const UUID = "0b5e1f5c-8d5a-4e4a-9c67-3f1d2a4b5c6d";
const JAN_1_2024 = new Date("2024-01-01T00:00:00Z");

const WATCH_BYTES = bytes(hex("0a 10 0a 0e"), "access_request", hex("10 01"));
const INIT_BYTES = bytes(
  hex("da 02 3f 0a 0c"),
  "watch_status",
  hex("1a 02"),
  "v1",
  hex("22 17 0a 0c"),
  "watch-status",
  hex("12 07"),
  "default",
  hex("2a 12 0a 10 0a 0e"),
  "access_request",
);
const DELETE_BYTES = bytes(
  hex("08 02 12 26 0a 0e"),
  "access_request",
  hex("1a 02"),
  "v3",
  hex("22 10 0a 05"),
  "req-1",
  hex("12 07"),
  "default",
);
const REVIEW_BYTES = bytes(
  hex("0a 24"),
  UUID,
  hex("12 30 0a 19"),
  "teleport-plugin-pagerduty",
  hex("18 02 22 07"),
  "on call",
  hex("2a 06 08 80 81 c8 ac 06 32 00"),
);
const PLUGIN_DATA_BYTES = bytes(
  hex("0a 0e"),
  "access_request",
  hex("12 05"),
  "req-1",
  hex("1a 09"),
  "pagerduty",
  hex("22 13 0a 0b"),
  "incident_id",
  hex("12 04"),
  "P123",
  hex("2a 0f 0a 0b"),
  "incident_id",
  hex("12 00"),
);

Deno.test("Watch for access_request with partial success encodes as Teleport's example", () => {
  const watch = create(WatchSchema, {
    Kinds: watchKindsToWire(["access_request"]),
    AllowPartialSuccess: true,
  });
  assert.deepEqual(toBinary(WatchSchema, watch), WATCH_BYTES);
});

Deno.test("an OpInit event carries the WatchStatus and omits the zero Type", () => {
  const init = initEvent(watchKindsToWire(["access_request"]));
  assert.deepEqual(toBinary(EventSchema, init), INIT_BYTES);
  assert.deepEqual(eventFromWire(decode(EventSchema, INIT_BYTES)), {
    type: "init",
    confirmedKinds: ["access_request"],
  });
});

Deno.test("an INIT without WatchStatus (older servers) confirms no kinds", () => {
  assert.deepEqual(eventFromWire(decode(EventSchema, new Uint8Array())), {
    type: "init",
    confirmedKinds: [],
  });
});

Deno.test("an OpDelete event names the request in its ResourceHeader", () => {
  assert.deepEqual(toBinary(EventSchema, deleteEvent("access_request", "req-1")), DELETE_BYTES);
  assert.deepEqual(eventFromWire(decode(EventSchema, DELETE_BYTES)), {
    type: "delete",
    kind: "access_request",
    id: "req-1",
  });
});

Deno.test("AccessReviewSubmission always emits Created and empty Annotations (nullable=false)", () => {
  const submission = reviewSubmissionToWire(UUID, {
    author: "teleport-plugin-pagerduty",
    proposedState: "APPROVED",
    reason: "on call",
    created: JAN_1_2024,
  });
  assert.deepEqual(toBinary(AccessReviewSubmissionSchema, submission), REVIEW_BYTES);
  const decoded = decode(AccessReviewSubmissionSchema, REVIEW_BYTES);
  assert.equal(decoded.RequestID, UUID);
  assert.equal(decoded.Review?.ProposedState, RequestState.APPROVED);
  assert.deepEqual(timeFromWire(decoded.Review?.Created), JAN_1_2024);
});

Deno.test("PluginDataUpdateParams writes map entries with both key and an empty value", () => {
  const params = pluginDataUpdateToWire("req-1", "pagerduty", { incident_id: "P123" }, { incident_id: "" });
  assert.deepEqual(toBinary(PluginDataUpdateParamsSchema, params), PLUGIN_DATA_BYTES);
  const decoded = decode(PluginDataUpdateParamsSchema, PLUGIN_DATA_BYTES);
  assert.deepEqual(decoded.Set, { incident_id: "P123" });
  assert.deepEqual(decoded.Expect, { incident_id: "" });
});

Deno.test("map entries are encoded in sorted key order whatever the insertion order", () => {
  const forward = pluginDataUpdateToWire("r", "p", { a: "1", b: "2", c: "3" }, {});
  const backward = pluginDataUpdateToWire("r", "p", { c: "3", b: "2", a: "1" }, {});
  assert.deepEqual(
    toBinary(PluginDataUpdateParamsSchema, backward),
    toBinary(PluginDataUpdateParamsSchema, forward),
  );
});

Deno.test("Go's zero time encodes as the 11-byte Timestamp and decodes as unset", () => {
  const zero = requiredTimeToWire(undefined);
  assert.equal(zero.seconds, GO_ZERO_TIME_SECONDS);
  const request = withGogoDefaults(create(AccessRequestV3Schema, { Spec: {} }));
  const encoded = toBinary(AccessRequestV3Schema, request);
  const maxDurationField = hex("8a 01 0b 08 80 92 b8 c3 98 fe ff ff ff 01");
  assert.ok(containsSequence(encoded, maxDurationField), "MaxDuration zero value is emitted");
  const decoded = accessRequestFromWire(decode(AccessRequestV3Schema, encoded));
  assert.equal(decoded.created, undefined);
  assert.equal(timeFromWire(undefined), undefined);
});

Deno.test("decoding skips unknown fields and unknown Event oneof members", () => {
  // Event{Type: PUT, <oneof #81 = some future resource>} followed by an unknown varint field #99.
  const futureEvent = bytes(hex("08 01 8a 05 03 0a 01 78 98 06 07"));
  assert.equal(eventFromWire(decode(EventSchema, futureEvent)), undefined);
  // An AccessRequestV3 with AccessRequestSpecV3 field #26 (newer servers) still decodes.
  const withFutureSpecField = bytes(
    hex("22 07 0a 05"),
    "req-9",
    hex("2a 0a 0a 03"),
    "bob",
    hex("d2 01 02 0a 00"),
  );
  const decoded = accessRequestFromWire(decode(AccessRequestV3Schema, withFutureSpecField));
  assert.equal(decoded.id, "req-9");
  assert.equal(decoded.user, "bob");
});

function containsSequence(haystack: Uint8Array, needle: number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
