import assert from "node:assert/strict";
import { assessReadiness, type ComponentProbe, problemsComponent } from "../../../src/ops/diag/readiness.ts";

Deno.test("the worst component decides; a probe that throws counts as unhealthy", () => {
  const healthy: ComponentProbe = () => ({ status: "healthy" });
  const degraded: ComponentProbe = () => ({ status: "degraded", reason: "slow" });
  const throwing: ComponentProbe = () => {
    throw new Error("boom");
  };
  assert.equal(assessReadiness(new Map([["a", healthy]])).status, "healthy");
  assert.equal(assessReadiness(new Map([["a", healthy], ["b", degraded]])).status, "degraded");
  const report = assessReadiness(new Map([["a", degraded], ["b", throwing]]));
  assert.equal(report.status, "unhealthy");
  assert.deepEqual(report.components.b, { status: "unhealthy", reason: "probe failed: boom" });
});

Deno.test("a problems list becomes a degraded component with the problems as detail", () => {
  let problems: string[] = [];
  const probe = problemsComponent(() => problems);
  assert.deepEqual(probe(), { status: "healthy" });
  problems = ["cannot read user.traits", "rule r1 is invalid"];
  assert.deepEqual(probe(), {
    status: "degraded",
    reason: "cannot read user.traits; rule r1 is invalid",
    problems,
  });
});
