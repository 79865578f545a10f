/**
 * What a backend program adds to `check`: which request annotations name its targets
 * (PagerDuty services, Opsgenie schedules/teams), and its own checks (API key, bot
 * user, every named target exists).
 */
import type { Config } from "../config/types.ts";
import type { AccessMonitoringRule } from "../core/types.ts";
import type { Role } from "../teleport/roles.ts";
import type { CheckItem } from "./report.ts";

/** A request annotation whose values name backend targets. */
export interface TargetAnnotation {
  /** The annotation key, e.g. "pagerduty_notify_service". */
  key: string;
  /** Whether a request carrying it is notified (not only auto-approved). */
  routes: boolean;
}

/** Every backend target named in Teleport, and where. */
export interface NamedTargets {
  /** Target name → where it is named: "annotation pagerduty_notify_service in role requester", "Access Monitoring Rule r1". */
  names: Map<string, string[]>;
  /** Whether anything sends requests to the backend: a routing annotation or a rule. */
  routed: boolean;
}

export interface BackendCheck {
  /** The plugin name (Access Monitoring Rules' notification name, item ids): "pagerduty". */
  name: string;
  annotations(config: Config): TargetAnnotation[];
  /** `targets` is undefined when the roles could not be read. */
  check(config: Config, targets: NamedTargets | undefined): Promise<CheckItem[]>;
}

/** Collects the targets roles' `allow.request.annotations` and Access Monitoring Rules name. */
export function collectTargets(
  roles: readonly Role[],
  annotations: readonly TargetAnnotation[],
  rules: readonly AccessMonitoringRule[] = [],
): NamedTargets {
  const names = new Map<string, string[]>();
  const add = (name: string, where: string) => names.set(name, [...(names.get(name) ?? []), where]);
  let routed = false;
  for (const role of roles) {
    for (const { key, routes } of annotations) {
      for (const value of role.allow.requestAnnotations[key] ?? []) {
        add(value, `annotation ${key} in role ${role.name}`);
        routed ||= routes;
      }
    }
  }
  for (const rule of rules) {
    for (const recipient of rule.notification?.recipients ?? []) {
      add(recipient, `Access Monitoring Rule ${rule.name}`);
      routed = true;
    }
  }
  return { names, routed };
}
