/**
 * What a backend program adds to `check`: which request annotations name its targets
 * (PagerDuty services, Opsgenie schedules/teams), and its own checks (API key, bot
 * user, every named target exists).
 */
import type { Config } from "../config/types.ts";
import type { Role } from "../teleport/roles.ts";
import type { CheckItem } from "./report.ts";

/** A request annotation whose values name backend targets. */
export interface TargetAnnotation {
  /** The annotation key, e.g. "pagerduty_notify_service". */
  key: string;
  /** What its values name, for messages: "service". */
  names: string;
}

/** Annotation key → value → roles that set it. */
export type AnnotationTargets = Map<string, Map<string, string[]>>;

export interface BackendCheck {
  /** The backend's name for item ids and messages: "pagerduty". */
  name: string;
  annotations(config: Config): TargetAnnotation[];
  /** `targets` is undefined when the roles could not be read. */
  check(config: Config, targets: AnnotationTargets | undefined): Promise<CheckItem[]>;
}

/** Collects the values each role's `allow.request.annotations` sets for the given keys. */
export function collectTargets(
  roles: readonly Role[],
  annotations: readonly TargetAnnotation[],
): AnnotationTargets {
  const targets: AnnotationTargets = new Map(annotations.map((a) => [a.key, new Map()]));
  for (const role of roles) {
    for (const { key } of annotations) {
      for (const value of role.allow.requestAnnotations[key] ?? []) {
        const byValue = targets.get(key)!;
        byValue.set(value, [...(byValue.get(value) ?? []), role.name]);
      }
    }
  }
  return targets;
}
