/**
 * Teleport roles as `check` needs them: the RBAC rules, the annotations a role adds
 * to the access requests it allows, and what the role may review.
 */
import type { RoleConditions, RoleV6 } from "./gen/teleport/legacy/types/types_pb.ts";
import { labelValuesFromWire } from "./codec.ts";

export interface RoleRule {
  resources: string[];
  verbs: string[];
  /** A predicate narrowing the rule; "" when unconditional. */
  where: string;
}

export interface RoleConditionSet {
  rules: RoleRule[];
  /** `request.annotations`: added to every access request the role allows. */
  requestAnnotations: Record<string, string[]>;
  /** `review_requests.roles`: roles whose requests holders may review. */
  reviewRoles: string[];
  reviewWhere: string;
}

export interface Role {
  name: string;
  allow: RoleConditionSet;
  deny: RoleConditionSet;
}

function conditionsFromWire(c: RoleConditions | undefined): RoleConditionSet {
  return {
    rules: (c?.Rules ?? []).map((r) => ({
      resources: [...r.Resources],
      verbs: [...r.Verbs],
      where: r.Where,
    })),
    requestAnnotations: labelValuesFromWire(c?.Request?.Annotations),
    reviewRoles: [...(c?.ReviewRequests?.Roles ?? [])],
    reviewWhere: c?.ReviewRequests?.Where ?? "",
  };
}

/** RoleV6 → Role. */
export function roleFromWire(role: RoleV6): Role {
  return {
    name: role.Metadata?.Name ?? "",
    allow: conditionsFromWire(role.Spec?.Allow),
    deny: conditionsFromWire(role.Spec?.Deny),
  };
}
