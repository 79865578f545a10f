/** Builders shared by the rules tests. */
import type { AccessMonitoringRule, AccessRequest } from "../../src/core/types.ts";

/** A pending request; override any field. */
export function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: "req-1",
    user: "alice@example.com",
    roles: ["editor"],
    state: "PENDING",
    created: new Date("2025-06-06T08:30:00Z"),
    requestReason: "because of",
    resolveReason: "",
    systemAnnotations: {},
    reviews: [],
    suggestedReviewers: [],
    ...overrides,
  };
}

/** A rule for `plugin` about access requests; override any field. */
export function rule(
  name: string,
  condition: string,
  recipients: string[],
  overrides: Partial<AccessMonitoringRule> = {},
  plugin = "pagerduty",
): AccessMonitoringRule {
  return {
    name,
    subjects: ["access_request"],
    condition,
    notification: { name: plugin, recipients },
    schedules: {},
    ...overrides,
  };
}
