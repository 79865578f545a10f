/**
 * Access monitoring rules on the wire, from hand-built bytes (field numbers of
 * shared/spec/access-monitoring-rules.md §1.1): the list request the plugin sends,
 * a rule PUT in Event oneof field 54, a rule DELETE, and an unknown operation.
 */
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { EventSchema } from "../../src/teleport/gen/teleport/legacy/client/proto/event_pb.ts";
import { ListAccessMonitoringRulesWithFilterRequestSchema } from "../../src/teleport/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_pb.ts";
import { decode, eventFromWire } from "../../src/teleport/codec.ts";
import { ruleFromWire } from "../../src/teleport/rules_codec.ts";
import { deleteEvent, ruleToWire } from "../../src/doubles/teleport_wire.ts";

const ascii = (text: string) => [...new TextEncoder().encode(text)];
const field = (tag: number, body: number[]) => [tag, body.length, ...body];

// AccessMonitoringRule{metadata{name "r"}, kind, version "v1", spec{subjects, condition, notification}}
const NOTIFICATION = [...field(0x0a, ascii("pagerduty")), ...field(0x12, ascii("S"))];
const SPEC = [
  ...field(0x0a, ascii("access_request")),
  ...field(0x1a, ascii("true")),
  ...field(0x22, NOTIFICATION),
];
const RULE = [
  ...field(0x0a, field(0x0a, ascii("r"))),
  ...field(0x12, ascii("access_monitoring_rule")),
  ...field(0x22, ascii("v1")),
  ...field(0x2a, SPEC),
];
/** Field 54, wire type 2: tag (54 << 3) | 2 = 434 = varint b2 03. */
const RULE_PUT = new Uint8Array([0x08, 0x01, 0xb2, 0x03, RULE.length, ...RULE]);

const DOMAIN_RULE = {
  name: "r",
  subjects: ["access_request"],
  condition: "true",
  notification: { name: "pagerduty", recipients: ["S"] },
  schedules: {},
};

Deno.test("the list request: page_size 1, subjects 3, notification_name 4", () => {
  const request = create(ListAccessMonitoringRulesWithFilterRequestSchema, {
    pageSize: 1000n,
    subjects: ["access_request"],
    notificationName: "pagerduty",
  });
  assert.deepEqual(
    toBinary(ListAccessMonitoringRulesWithFilterRequestSchema, request),
    new Uint8Array([
      0x08,
      0xe8,
      0x07,
      ...field(0x1a, ascii("access_request")),
      ...field(0x22, ascii("pagerduty")),
    ]),
  );
});

Deno.test("a rule PUT arrives in Event field 54 and decodes to the domain rule", () => {
  assert.deepEqual(eventFromWire(decode(EventSchema, RULE_PUT)), {
    type: "rule",
    kind: "access_monitoring_rule",
    rule: DOMAIN_RULE,
  });
});

Deno.test("the double's rules decode to what it was given", () => {
  assert.deepEqual(ruleFromWire(ruleToWire(DOMAIN_RULE)), DOMAIN_RULE);
});

Deno.test("a rule DELETE carries only the header", () => {
  const bytes = toBinary(EventSchema, deleteEvent("access_monitoring_rule", "r", "v1"));
  assert.deepEqual(eventFromWire(decode(EventSchema, bytes)), {
    type: "delete",
    kind: "access_monitoring_rule",
    id: "r",
  });
});

Deno.test("an event with an unknown operation is ignored, never applied as a PUT", () => {
  const unknownOp = RULE_PUT.slice();
  unknownOp[1] = 0x07;
  assert.equal(eventFromWire(decode(EventSchema, unknownOp)), undefined);
});
