/**
 * Server-side wire builders: what the Teleport double sends (watch events, requests
 * with gogoproto's non-nullable defaults). The plugin itself only decodes these, so
 * they live with the doubles, not in src/teleport.
 */
import { create } from "@bufbuild/protobuf";
import { type Event, EventSchema, Operation } from "../teleport/gen/teleport/legacy/client/proto/event_pb.ts";
import {
  type AccessRequestV3,
  type Metadata,
  MetadataSchema,
  ResourceHeaderSchema,
  type WatchKind,
  WatchStatusSpecV1Schema,
  WatchStatusV1Schema,
} from "../teleport/gen/teleport/legacy/types/types_pb.ts";
import {
  type LabelValues,
  LabelValuesSchema,
  StringValuesSchema,
} from "../teleport/gen/teleport/legacy/types/wrappers/wrappers_pb.ts";
import {
  type AccessMonitoringRule as WireRule,
  AccessMonitoringRuleSchema,
} from "../teleport/gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_pb.ts";
import { requiredTimeToWire, sortedRecord } from "../teleport/codec.ts";
import { KIND_ACCESS_MONITORING_RULE } from "../teleport/rules_codec.ts";
import type { AccessMonitoringRule } from "../core/types.ts";

export const KIND_PLUGIN_DATA = "plugin_data";
export const KIND_WATCH_STATUS = "watch_status";
export const DEFAULT_NAMESPACE = "default";

/** Domain labels (`map[string][]string`) as wire LabelValues, keys sorted. */
export function labelValuesToWire(labels: Record<string, string[]>): LabelValues {
  const values: LabelValues["Values"] = {};
  for (const [key, list] of Object.entries(sortedRecord(labels))) {
    values[key] = create(StringValuesSchema, { Values: list });
  }
  return create(LabelValuesSchema, { Values: values });
}

/**
 * Fills every `nullable=false` field of an AccessRequestV3 that the caller left
 * unset, so the message encodes as gogo would. Used by the test double, which
 * builds requests from domain data.
 */
export function withGogoDefaults(request: AccessRequestV3): AccessRequestV3 {
  request.Metadata ??= create(MetadataSchema, { Namespace: DEFAULT_NAMESPACE });
  const spec = request.Spec!;
  spec.Created ??= requiredTimeToWire(undefined);
  spec.Expires ??= requiredTimeToWire(undefined);
  spec.MaxDuration ??= requiredTimeToWire(undefined);
  spec.SessionTTL ??= requiredTimeToWire(undefined);
  spec.ResolveAnnotations ??= create(LabelValuesSchema);
  spec.SystemAnnotations ??= create(LabelValuesSchema);
  for (const review of spec.Reviews) {
    review.Created ??= requiredTimeToWire(undefined);
    review.Annotations ??= create(LabelValuesSchema);
  }
  return request;
}

function metadataFor(name: string): Metadata {
  return create(MetadataSchema, { Name: name, Namespace: DEFAULT_NAMESPACE });
}

/** The OpInit event a server sends first, confirming the accepted kinds. */
export function initEvent(acceptedKinds: WatchKind[]): Event {
  return create(EventSchema, {
    Type: Operation.INIT,
    Resource: {
      case: "WatchStatus",
      value: create(WatchStatusV1Schema, {
        Kind: KIND_WATCH_STATUS,
        Version: "v1",
        Metadata: metadataFor("watch-status"),
        Spec: create(WatchStatusSpecV1Schema, { Kinds: acceptedKinds }),
      }),
    },
  });
}

export function putEvent(request: AccessRequestV3): Event {
  return create(EventSchema, { Type: Operation.PUT, Resource: { case: "AccessRequest", value: request } });
}

/** A DELETE event: the resource header only (version "v3" for requests, "v1" for rules). */
export function deleteEvent(kind: string, name: string, version = "v3"): Event {
  return create(EventSchema, {
    Type: Operation.DELETE,
    Resource: {
      case: "ResourceHeader",
      value: create(ResourceHeaderSchema, { Kind: kind, Version: version, Metadata: metadataFor(name) }),
    },
  });
}

/** A PUT event for an access monitoring rule (Event oneof field 54). */
export function rulePutEvent(rule: WireRule): Event {
  return create(EventSchema, {
    Type: Operation.PUT,
    Resource: { case: "AccessMonitoringRule", value: rule },
  });
}

/** What a rule's author may set beyond the domain view (for validation tests). */
export interface RuleExtras {
  kind?: string;
  version?: string;
  desiredState?: string;
  automaticReview?: { integration: string; decision: string };
}

/** A domain rule (plus extras) as the wire message Teleport stores and sends. */
export function ruleToWire(rule: AccessMonitoringRule, extras: RuleExtras = {}): WireRule {
  return create(AccessMonitoringRuleSchema, {
    kind: extras.kind ?? KIND_ACCESS_MONITORING_RULE,
    version: extras.version ?? "v1",
    metadata: { name: rule.name, namespace: DEFAULT_NAMESPACE },
    spec: {
      subjects: rule.subjects,
      condition: rule.condition,
      notification: rule.notification,
      automaticReview: extras.automaticReview,
      desiredState: extras.desiredState ?? "",
      schedules: Object.fromEntries(
        Object.entries(rule.schedules).map(([name, schedule]) => [name, { time: schedule }]),
      ),
    },
  });
}
