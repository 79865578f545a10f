/**
 * What the demo's story needs from a backend: its world (the Teleport double plus the
 * backend's API double, set up the guide's way), the routing annotations a requester
 * role adds, how to find the notification of a request, and the calls the plugin made
 * (for the timeline). src/demo/pagerduty.ts and src/demo/opsgenie.ts implement it.
 */
import type { HttpApiDouble } from "../doubles/http_api_double.ts";
import type { RecordedRequest } from "../doubles/http_double.ts";
import type { CredentialPaths, TeleportDouble } from "../doubles/teleport_double.ts";
import type { RunningPlugin } from "../doubles/world.ts";

/** The names the demo's backends are chosen by (`--backend`). */
export const DEMO_BACKENDS = ["pagerduty", "opsgenie"] as const;
export type DemoBackendName = typeof DEMO_BACKENDS[number];

/** What the story and the timeline need of either world. */
export interface DemoWorld extends AsyncDisposable {
  teleport: TeleportDouble;
  dir: string;
  credentials: CredentialPaths;
  config: { diag: { addr: string } };
  startPlugin(): Promise<RunningPlugin>;
}

/** A request's notification as the backend's double holds it. */
export interface Notified {
  id: string;
  /** Where it went: service or schedule names. */
  targets: string[];
  notes: string[];
  closed: boolean;
}

/** The calls the plugin made to the backend's double, described for the timeline. */
export interface CallSource {
  /** The timeline's side for these calls, e.g. "plugin→pagerduty". */
  side: string;
  /** Every call the double received, in arrival order (status 0 while in flight). */
  requests: readonly RecordedRequest[];
  /** One line for a successful write, or undefined for the generic `METHOD path → status`. */
  describe(r: RecordedRequest): string | undefined;
}

export interface DemoAdapter<W extends DemoWorld = DemoWorld> {
  name: DemoBackendName;
  /** "PagerDuty", "Opsgenie". */
  product: string;
  /** What the plugin opens: "incident", "alert". */
  noun: string;
  /** What a finished notification is: "resolved", "closed". */
  closedWord: string;
  /** What requests name: "service", "schedule". */
  targetWord: string;
  /** The names of the three targets the story uses. */
  targets: { notify: string; oncall: string; db: string };
  world: W;
  /** The backend's API double (its address, its recorded calls, fault injection). */
  api: HttpApiDouble;
  calls: CallSource;
  /** A requester role's annotations: where to notify, and (optionally) the on-call targets for approval. */
  annotations(notify: string[], approve: string[]): Record<string, string[]>;
  /** The notification of request `requestId`, if the plugin made one. */
  find(requestId: string): Notified | undefined;
  /** What the double holds, one line each, to see where a story stalled. */
  describeState(): string[];
}
