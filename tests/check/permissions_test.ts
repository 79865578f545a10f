import assert from "node:assert/strict";
import { checkPermissions } from "../../src/check/permissions.ts";
import type { Role, RoleConditionSet } from "../../src/teleport/roles.ts";

const none: RoleConditionSet = { rules: [], requestAnnotations: {}, reviewRoles: [], reviewWhere: "" };
const role = (
  name: string,
  allow: Partial<RoleConditionSet>,
  deny: Partial<RoleConditionSet> = {},
): Role => ({
  name,
  allow: { ...none, ...allow },
  deny: { ...none, ...deny },
});
const status = (roles: Role[], id: string, mode: "on" | "off" | "dry-run" = "on") =>
  checkPermissions(roles, mode, "plugin").find((item) => item.id === `teleport.permissions.${id}`)?.status;

Deno.test("wildcards grant everything; a deny wildcard takes it all back", () => {
  const admin = role("admin", { rules: [{ resources: ["*"], verbs: ["*"], where: "" }], reviewRoles: ["*"] });
  for (const id of ["access_request", "plugin_data", "access_monitoring_rule", "role", "review_requests"]) {
    assert.equal(status([admin], id), "ok", id);
  }
  const lockdown = role("lockdown", {}, {
    rules: [{ resources: ["*"], verbs: ["*"], where: "" }],
    reviewRoles: ["*"],
  });
  assert.equal(status([admin, lockdown], "access_request"), "error");
  assert.equal(status([admin, lockdown], "review_requests"), "warning");
});

Deno.test("an allow rule with a where predicate counts and is shown; a conditional deny does not remove it", () => {
  const items = checkPermissions(
    [role("scoped", {
      rules: [{ resources: ["access_request"], verbs: ["list", "read"], where: "contains(x)" }],
    }, {
      rules: [{ resources: ["access_request"], verbs: ["read"], where: "equals(y)" }],
    })],
    "off",
    "plugin",
  );
  const item = items.find((i) => i.id === "teleport.permissions.access_request")!;
  assert.equal(item.status, "ok");
  assert.match(item.message, /where contains\(x\)/);
});

Deno.test("no roles at all: the essentials are errors naming the user", () => {
  const item = checkPermissions([], "on", "plugin").find((i) => i.id === "teleport.permissions.plugin_data")!;
  assert.equal(item.status, "error");
  assert.match(item.message, /user plugin \(roles: none\) cannot update access_plugin_data/);
});
