/**
 * Readiness: each component reports its own status; the answer of /readyz is the
 * worst status among the components that gate readiness.
 *
 * - `healthy`: working;
 * - `degraded`: working around a problem (e.g. the backend API fails and requests
 *   wait for retries); /readyz still answers 200, monitors see the detail;
 * - `unhealthy`: the plugin cannot do its job (no Teleport watch, expired identity);
 *   /readyz answers 503 (worker.ts applies this rule).
 */

export type ComponentState = "healthy" | "degraded" | "unhealthy";

export interface ComponentStatus {
  status: ComponentState;
  /** Why it is not healthy, for the person reading the probe. */
  reason?: string;
  /** Numbers and timestamps a monitor may want (JSON-serialisable). */
  [detail: string]: unknown;
}

/** A component's status, computed on demand from state kept in memory (no I/O, no awaiting). */
export type ComponentProbe = () => ComponentStatus;

export interface ReadinessReport {
  status: ComponentState;
  components: Record<string, ComponentStatus>;
}

const RANK: Record<ComponentState, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** Runs every probe; a probe that throws counts as unhealthy instead of failing the endpoint. */
export function assessReadiness(probes: ReadonlyMap<string, ComponentProbe>): ReadinessReport {
  const components: Record<string, ComponentStatus> = {};
  let status: ComponentState = "healthy";
  for (const [name, probe] of probes) {
    let result: ComponentStatus;
    try {
      result = probe();
    } catch (error) {
      result = { status: "unhealthy", reason: `probe failed: ${(error as Error).message}` };
    }
    components[name] = result;
    if (RANK[result.status] > RANK[status]) status = result.status;
  }
  return { status, components };
}

/** A component that is degraded while `problems()` lists anything (e.g. the rules cache's missing permissions). */
export function problemsComponent(problems: () => readonly string[]): ComponentProbe {
  return () => {
    const found = problems();
    return found.length === 0
      ? { status: "healthy" }
      : { status: "degraded", reason: found.join("; "), problems: [...found] };
  };
}
