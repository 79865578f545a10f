/**
 * The plugin's Teleport permissions, judged from its own roles (GetCurrentUserRoles)
 * with Teleport's rule semantics: "*" matches any resource or verb, and a matching
 * deny rule beats every allow rule. A `where` predicate cannot be evaluated here, so
 * an allow rule that has one counts, with the predicate shown.
 */
import type { AutoApprovalMode } from "../config/types.ts";
import type { Role, RoleRule } from "../teleport/roles.ts";
import { type CheckItem, error, ok, warning } from "./report.ts";

interface Need {
  id: string;
  resource: string;
  verbs: string[];
  why: string;
  /** Missing it is an error (the plugin cannot work) or a warning (a feature is lost). */
  severity: "error" | "warning";
}

const NEEDS: Need[] = [
  {
    id: "access_request",
    resource: "access_request",
    verbs: ["list", "read"],
    why: "to see access requests",
    severity: "error",
  },
  {
    id: "plugin_data",
    resource: "access_plugin_data",
    verbs: ["update"],
    why: "to record its progress on each request",
    severity: "error",
  },
  {
    id: "access_monitoring_rule",
    resource: "access_monitoring_rule",
    verbs: ["list", "read"],
    why: "to route notifications with Access Monitoring Rules",
    severity: "warning",
  },
  {
    id: "role",
    resource: "role",
    verbs: ["list", "read"],
    why: "for `check` to read the request annotations roles set",
    severity: "warning",
  },
];

function matches(rule: RoleRule, resource: string, verb: string): boolean {
  return (rule.resources.includes(resource) || rule.resources.includes("*")) &&
    (rule.verbs.includes(verb) || rule.verbs.includes("*"));
}

/** "allowed", "denied" (no allow rule, or a deny rule), or the `where` of the allowing rule. */
function decide(
  roles: readonly Role[],
  resource: string,
  verb: string,
): { allowed: boolean; where?: string; deniedBy?: string } {
  const denying = roles.find((role) =>
    role.deny.rules.some((rule) => !rule.where && matches(rule, resource, verb))
  );
  if (denying) return { allowed: false, deniedBy: denying.name };
  let conditional: string | undefined;
  for (const role of roles) {
    for (const rule of role.allow.rules) {
      if (!matches(rule, resource, verb)) continue;
      if (!rule.where) return { allowed: true };
      conditional ??= rule.where;
    }
  }
  return conditional === undefined ? { allowed: false } : { allowed: true, where: conditional };
}

/** One item per permission the plugin needs, given its roles and the auto-approval mode. */
export function checkPermissions(
  roles: readonly Role[],
  autoApproval: AutoApprovalMode,
  user: string,
): CheckItem[] {
  const names = roles.map((role) => role.name).join(", ") || "none";
  const items: CheckItem[] = [];
  for (const need of NEEDS) {
    const id = `teleport.permissions.${need.id}`;
    const verdicts = need.verbs.map((verb) => ({ verb, ...decide(roles, need.resource, verb) }));
    const missing = verdicts.filter((v) => !v.allowed);
    const rule = `{resources: [${need.resource}], verbs: [${need.verbs.join(", ")}]}`;
    if (missing.length === 0) {
      const where = verdicts.find((v) => v.where)?.where;
      items.push(ok(id, `${need.resource}: ${need.verbs.join(", ")}${where ? ` (where ${where})` : ""}`));
      continue;
    }
    const deniedBy = missing.find((v) => v.deniedBy)?.deniedBy;
    const message = `user ${user} (roles: ${names}) cannot ${
      missing.map((v) => v.verb).join(" or ")
    } ${need.resource}${deniedBy ? ` (denied by role ${deniedBy})` : ""}; it needs it ${need.why}`;
    const fix = deniedBy
      ? `remove the deny rule for ${need.resource} from role ${deniedBy}`
      : `add the rule ${rule} to the plugin's role`;
    items.push(need.severity === "error" ? error(id, message, fix) : warning(id, message, fix));
  }
  items.push(checkReviewPermission(roles, autoApproval, names));
  return items;
}

function checkReviewPermission(roles: readonly Role[], mode: AutoApprovalMode, names: string): CheckItem {
  const id = "teleport.permissions.review_requests";
  if (mode === "off") return ok(id, "auto_approval = off: no review permission needed");
  const reviewable = [...new Set(roles.flatMap((role) => role.allow.reviewRoles))];
  const denied = [...new Set(roles.flatMap((role) => role.deny.reviewRoles))];
  const usable = reviewable.filter((role) => !denied.includes(role) && !denied.includes("*"));
  if (usable.length > 0) {
    const where = roles.map((role) => role.allow.reviewWhere).find((w) => w);
    return ok(id, `may review requests for roles ${usable.join(", ")}${where ? ` where ${where}` : ""}`);
  }
  if (mode === "dry-run") {
    return ok(
      id,
      `auto_approval = dry-run submits nothing; before turning it on, give a role of the plugin review_requests (roles: ${names})`,
    );
  }
  return warning(
    id,
    `auto_approval = on, but the plugin's roles (${names}) may not review any request: auto-approvals will fail`,
    'add `review_requests: {roles: [...]}` to the plugin\'s role, or set pagerduty.auto_approval = "off"',
  );
}
