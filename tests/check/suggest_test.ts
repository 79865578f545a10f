import assert from "node:assert/strict";
import { nearestName } from "../../src/check/suggest.ts";

Deno.test("the nearest name within a typo's distance, case-insensitively; nothing when all are far", () => {
  const names = ["Teleport Access", "Databases", "Payments API"];
  assert.equal(nearestName("Teleport Acess", names), "Teleport Access");
  assert.equal(nearestName("teleport access", names), "Teleport Access");
  assert.equal(nearestName("Databse", names), "Databases");
  assert.equal(nearestName("Billing", names), undefined);
  assert.equal(nearestName("x", []), undefined);
});
