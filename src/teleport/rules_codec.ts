/** Wire → domain mapping for access monitoring rules (teleport.accessmonitoringrules.v1). */
import type { AccessMonitoringRule as WireRule } from "./gen/teleport/accessmonitoringrules/v1/access_monitoring_rules_pb.ts";
import type { AccessMonitoringRule, RuleSchedule } from "../core/types.ts";

export { KIND_ACCESS_MONITORING_RULE } from "../core/types.ts";

/** The domain view of a wire rule; absent sub-messages read as empty. */
export function ruleFromWire(rule: WireRule): AccessMonitoringRule {
  const spec = rule.spec;
  const schedules: Record<string, RuleSchedule> = {};
  for (const [name, schedule] of Object.entries(spec?.schedules ?? {})) {
    schedules[name] = {
      timezone: schedule.time?.timezone ?? "",
      shifts: (schedule.time?.shifts ?? []).map(({ weekday, start, end }) => ({ weekday, start, end })),
    };
  }
  return {
    name: rule.metadata?.name ?? "",
    subjects: [...(spec?.subjects ?? [])],
    condition: spec?.condition ?? "",
    ...(spec?.notification
      ? { notification: { name: spec.notification.name, recipients: [...spec.notification.recipients] } }
      : {}),
    schedules,
  };
}
