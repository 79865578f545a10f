/**
 * Mapping between Teleport's wire messages (protobuf-es, src/teleport/gen) and the
 * domain shapes in ./types.ts.
 *
 * Teleport compiles its protos with gogoproto, which changes the bytes in ways a
 * plain proto3 encoder does not reproduce. The builders here apply those rules so we
 * send what a Go client would send:
 * - `nullable=false` message fields (Metadata, Spec, Review, LabelValues) are always
 *   set, so protobuf-es emits them even when empty (`<tag> 00`);
 * - `stdtime` + `nullable=false` timestamps are always set, to Go's zero time when
 *   the value is unset;
 * - map entries are inserted in sorted key order so the bytes are deterministic
 *   (Go's order is random, so a server never depends on it).
 * Decoding is the reverse: Go's zero time and absent timestamps both read as unset,
 * and unknown fields (newer Teleport versions) are dropped.
 */
import { create, type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { type Timestamp, TimestampSchema } from "@bufbuild/protobuf/wkt";
import { type Event, Operation } from "./gen/teleport/legacy/client/proto/event_pb.ts";
import {
  type AccessRequestV3,
  type AccessReview as WireAccessReview,
  AccessReviewSchema,
  type AccessReviewSubmission,
  AccessReviewSubmissionSchema,
  type PluginDataUpdateParams,
  PluginDataUpdateParamsSchema,
  RequestState as WireRequestState,
  type ResourceID,
  type UserV2,
  type WatchKind,
  WatchKindSchema,
} from "./gen/teleport/legacy/types/types_pb.ts";
import { type LabelValues, LabelValuesSchema } from "./gen/teleport/legacy/types/wrappers/wrappers_pb.ts";
import type { AccessRequest, AccessReview, RequestState, WatchEvent } from "../core/types.ts";
import { KIND_ACCESS_MONITORING_RULE, ruleFromWire } from "./rules_codec.ts";

export const KIND_ACCESS_REQUEST = "access_request";

/** `time.Time{}` as a Unix timestamp: 0001-01-01T00:00:00Z. */
export const GO_ZERO_TIME_SECONDS = -62135596800n;

/** Decodes wire bytes, dropping unknown fields instead of keeping them for re-encoding. */
export function decode<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  return fromBinary(schema, bytes, { readUnknownFields: false });
}

// ---- time -------------------------------------------------------------------

/** A wire timestamp as a Date; absent and Go's zero time are both "unset". */
export function timeFromWire(ts: Timestamp | undefined): Date | undefined {
  if (!ts) return undefined;
  if (ts.seconds === GO_ZERO_TIME_SECONDS && ts.nanos === 0) return undefined;
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000));
}

/** For `stdtime, nullable=false` fields: always a value, Go's zero time when unset. */
export function requiredTimeToWire(date: Date | undefined): Timestamp {
  if (!date) return create(TimestampSchema, { seconds: GO_ZERO_TIME_SECONDS });
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return create(TimestampSchema, { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 });
}

// ---- maps and labels ----------------------------------------------------------

/** A copy of `record` whose keys iterate in sorted order (deterministic map bytes). */
export function sortedRecord<V>(record: Record<string, V>): Record<string, V> {
  const sorted: Record<string, V> = {};
  for (const key of Object.keys(record).sort()) sorted[key] = record[key];
  return sorted;
}

export function labelValuesFromWire(labels: LabelValues | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, list] of Object.entries(labels?.Values ?? {})) out[key] = [...(list.Values ?? [])];
  return out;
}

/** A user's traits (`map[string][]string`); a user without traits has an empty map. */
export function traitsFromWire(user: UserV2): Record<string, string[]> {
  return labelValuesFromWire(user.Spec?.Traits);
}

// ---- request state --------------------------------------------------------------

const STATE_NAMES: Record<WireRequestState, RequestState> = {
  [WireRequestState.NONE]: "NONE",
  [WireRequestState.PENDING]: "PENDING",
  [WireRequestState.APPROVED]: "APPROVED",
  [WireRequestState.DENIED]: "DENIED",
  [WireRequestState.PROMOTED]: "PROMOTED",
};

/** Unknown future enum values read as NONE rather than failing the whole message. */
export function stateFromWire(state: WireRequestState): RequestState {
  return STATE_NAMES[state] ?? "NONE";
}

export function stateToWire(state: RequestState): WireRequestState {
  return WireRequestState[state];
}

// ---- access requests ---------------------------------------------------------------

function reviewFromWire(review: WireAccessReview): AccessReview {
  return {
    author: review.Author,
    proposedState: stateFromWire(review.ProposedState),
    reason: review.Reason,
    created: timeFromWire(review.Created),
  };
}

export function accessRequestFromWire(request: AccessRequestV3): AccessRequest {
  const spec = request.Spec;
  const expires = timeFromWire(spec?.Expires);
  const resourceIds = (spec?.RequestedResourceIDs ?? []).map(resourceIdToString);
  return {
    id: request.Metadata?.Name ?? "",
    user: spec?.User ?? "",
    roles: [...(spec?.Roles ?? [])],
    state: stateFromWire(spec?.State ?? WireRequestState.NONE),
    created: timeFromWire(spec?.Created),
    requestReason: spec?.RequestReason ?? "",
    resolveReason: spec?.ResolveReason ?? "",
    systemAnnotations: labelValuesFromWire(spec?.SystemAnnotations),
    reviews: (spec?.Reviews ?? []).map(reviewFromWire),
    suggestedReviewers: [...(spec?.SuggestedReviewers ?? [])],
    ...(expires ? { expires } : {}),
    ...(resourceIds.length > 0 ? { requestedResourceIds: resourceIds } : {}),
  };
}

/** Teleport's ResourceID string form: /cluster/kind/name[/sub-resource]. */
function resourceIdToString(id: ResourceID): string {
  const base = `/${id.ClusterName}/${id.Kind}/${id.Name}`;
  return id.SubResourceName ? `${base}/${id.SubResourceName}` : base;
}

// ---- reviews ------------------------------------------------------------------------

export function reviewToWire(review: AccessReview): WireAccessReview {
  return create(AccessReviewSchema, {
    Author: review.author,
    ProposedState: stateToWire(review.proposedState),
    Reason: review.reason,
    Created: requiredTimeToWire(review.created),
    Annotations: create(LabelValuesSchema),
  });
}

export function reviewSubmissionToWire(requestId: string, review: AccessReview): AccessReviewSubmission {
  return create(AccessReviewSubmissionSchema, { RequestID: requestId, Review: reviewToWire(review) });
}

// ---- plugin data ----------------------------------------------------------------------

export function pluginDataUpdateToWire(
  requestId: string,
  plugin: string,
  set: Record<string, string>,
  expect: Record<string, string>,
): PluginDataUpdateParams {
  return create(PluginDataUpdateParamsSchema, {
    Kind: KIND_ACCESS_REQUEST,
    Resource: requestId,
    Plugin: plugin,
    Set: sortedRecord(set),
    Expect: sortedRecord(expect),
  });
}

// ---- watch events ----------------------------------------------------------------------

export function watchKindsToWire(kinds: string[]): WatchKind[] {
  return kinds.map((kind) => create(WatchKindSchema, { Kind: kind }));
}

/**
 * The domain view of a watch event, or undefined for events the plugin does not
 * handle (other resource kinds, or oneof members this build does not know).
 */
export function eventFromWire(event: Event): WatchEvent | undefined {
  const resource = event.Resource;
  switch (event.Type) {
    case Operation.INIT: {
      // Old servers send INIT without a WatchStatus: nothing was confirmed.
      const kinds = resource.case === "WatchStatus" ? resource.value.Spec?.Kinds ?? [] : [];
      return { type: "init", confirmedKinds: kinds.map((kind) => kind.Kind) };
    }
    case Operation.PUT:
      if (resource.case === "AccessMonitoringRule") {
        return { type: "rule", kind: KIND_ACCESS_MONITORING_RULE, rule: ruleFromWire(resource.value) };
      }
      if (resource.case !== "AccessRequest") return undefined;
      return { type: "put", request: accessRequestFromWire(resource.value) };
    case Operation.DELETE:
      if (resource.case !== "ResourceHeader") return undefined;
      return { type: "delete", kind: resource.value.Kind, id: resource.value.Metadata?.Name ?? "" };
    default:
      return undefined;
  }
}
