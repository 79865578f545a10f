/**
 * Roles in the Teleport double: the wire form the Auth Service sends, Teleport's RBAC
 * rule matching (deny wins, "*" matches anything), and the role an access plugin
 * gets in the setup guides.
 */
import { create } from "@bufbuild/protobuf";
import {
  type RoleConditions,
  RoleConditionsSchema,
  RoleSpecV6Schema,
  type RoleV6,
  RoleV6Schema,
} from "../teleport/gen/teleport/legacy/types/types_pb.ts";
import type { RoleConditionSet } from "../teleport/roles.ts";
import { labelValuesToWire } from "./teleport_wire.ts";

/** A role as tests write it. */
export interface DoubleRole {
  name: string;
  allow?: Partial<RoleConditionSet>;
  deny?: Partial<RoleConditionSet>;
}

/**
 * The plugin role of the setup guides (access requests, plugin data, Access Monitoring
 * Rules) plus reading roles, which the preset `access-plugin` role grants. No reviews:
 * an administrator adds `review_requests` for auto-approval.
 */
export const ACCESS_PLUGIN_ROLE: DoubleRole = {
  name: "access-plugin",
  allow: {
    rules: [
      { resources: ["access_request"], verbs: ["list", "read"], where: "" },
      { resources: ["access_plugin_data"], verbs: ["update"], where: "" },
      { resources: ["access_monitoring_rule"], verbs: ["list", "read"], where: "" },
      { resources: ["role"], verbs: ["list", "read"], where: "" },
    ],
  },
};

function conditionsToWire(c: Partial<RoleConditionSet>): RoleConditions {
  return create(RoleConditionsSchema, {
    Rules: (c.rules ?? []).map((r) => ({ Resources: r.resources, Verbs: r.verbs, Where: r.where })),
    Request: { Annotations: labelValuesToWire(c.requestAnnotations ?? {}) },
    ReviewRequests: { Roles: c.reviewRoles ?? [], Where: c.reviewWhere ?? "" },
  });
}

/** DoubleRole → RoleV6 as the Auth Service sends it. */
export function roleToWire(role: DoubleRole): RoleV6 {
  return create(RoleV6Schema, {
    Kind: "role",
    Version: "v7",
    Metadata: { Name: role.name, Namespace: "default" },
    Spec: create(RoleSpecV6Schema, {
      Allow: conditionsToWire(role.allow ?? {}),
      Deny: conditionsToWire(role.deny ?? {}),
    }),
  });
}

function matches(rule: { resources: string[]; verbs: string[] }, resource: string, verb: string): boolean {
  return (rule.resources.includes(resource) || rule.resources.includes("*")) &&
    (rule.verbs.includes(verb) || rule.verbs.includes("*"));
}

/** Teleport's rule check without `where` predicates: a matching deny rule wins over any allow. */
export function rolesAllow(roles: DoubleRole[], resource: string, verb: string): boolean {
  if (roles.some((r) => (r.deny?.rules ?? []).some((rule) => matches(rule, resource, verb)))) return false;
  return roles.some((r) => (r.allow?.rules ?? []).some((rule) => matches(rule, resource, verb)));
}
