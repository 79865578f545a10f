/**
 * The setup guide's story, played against the shared doubles (src/doubles) with the
 * real plugin in between, on PagerDuty or Opsgenie (src/demo/adapter.ts): a requester
 * opens an incident (alert), a reviewer approves it, an on-call engineer is approved by
 * the plugin itself, and an Access Monitoring Rule routes a request that names no
 * service (schedule).
 */
import { eventually, PLUGIN_USER, type RunningPlugin, type World } from "../doubles/world.ts";
import type { OpsgenieWorld } from "../doubles/opsgenie_world.ts";
import type { DemoAdapter, DemoBackendName, DemoWorld, Notified } from "./adapter.ts";
import { startOpsgenieDemo } from "./opsgenie.ts";
import { startPagerDutyDemo } from "./pagerduty.ts";
import { shortId, Timeline, type TimelineOptions } from "./timeline.ts";

export { DB_SERVICE, NOTIFY_SERVICE, ONCALL_SERVICE } from "./pagerduty.ts";
export const REQUESTER = "alice@example.com";
export const ONCALL_USER = "bob@example.com";
export const REVIEWER = "reviewer@example.com";
export const DB_REQUESTER = "carol@example.com";
/** The Access Monitoring Rule the demo creates: db-admin requests page the database on-call. */
export const DB_RULE = "db-admin-requests";
/** How long each step may take before the demo reports it missing. */
export const STEP_TIMEOUT_MS = 10_000;

export interface DemoEnv<W extends DemoWorld = DemoWorld> extends AsyncDisposable {
  world: W;
  backend: DemoAdapter<W>;
  plugin: RunningPlugin;
  timeline: Timeline;
  /**
   * Creates a request the way a requester role with the guide's annotations would:
   * notify the backend's notification target; `oncall` names targets for auto-approval.
   */
  request(user: string, role: string, oncall?: string[]): string;
  /** Creates a request with no routing annotations (Access Monitoring Rules decide). */
  requestWithout(user: string, role: string): string;
  /** Ids of the requests created so far, oldest first. */
  requestIds(): string[];
}

/** The demo on PagerDuty (what `--keep` works with). */
export type PagerDutyDemoEnv = DemoEnv<World>;

/** A step that did not happen in time. */
export class MissingStep extends Error {
  override name = "MissingStep";
}

/**
 * Starts the doubles and the plugin and sets up the guide's backend and Teleport side:
 * a notification target, an on-call target with Bob on call, a database target, a human
 * reviewer, and the plugin allowed to review `demo-role` only (the guide's
 * `review_requests.roles` + `where`).
 */
export function setUpDemo(
  opts?: Pick<TimelineOptions, "verbose" | "write"> & { backend?: "pagerduty" },
): Promise<PagerDutyDemoEnv>;
export function setUpDemo(
  opts: Pick<TimelineOptions, "verbose" | "write"> & { backend: "opsgenie" },
): Promise<DemoEnv<OpsgenieWorld>>;
export function setUpDemo(
  opts: Pick<TimelineOptions, "verbose" | "write"> & { backend?: DemoBackendName },
): Promise<DemoEnv>;
export async function setUpDemo(
  opts: Pick<TimelineOptions, "verbose" | "write"> & { backend?: DemoBackendName } = {},
): Promise<DemoEnv> {
  const backend: DemoAdapter = opts.backend === "opsgenie"
    ? await startOpsgenieDemo(ONCALL_USER)
    : await startPagerDutyDemo(ONCALL_USER);
  const { world } = backend;
  try {
    world.teleport.setReviewer(REVIEWER, ["editor", "demo-role", "db-admin"]);
    world.teleport.setReviewer(PLUGIN_USER, ["demo-role"]);
    // Credentials valid for a month (the world's last a day, which the plugin warns about).
    await world.teleport.writeCredentials(PLUGIN_USER, world.dir, { validForMs: 30 * 24 * 3600_000 });

    const timeline = new Timeline({
      teleport: world.teleport,
      calls: backend.calls,
      pluginUser: PLUGIN_USER,
      verbose: opts.verbose,
      write: opts.write,
    });
    timeline.start();
    timeline.emit(
      "demo",
      `Teleport double on ${world.teleport.addr}, ${backend.product} double at ${backend.api.url}`,
    );
    timeline.emit("demo", `temporary files (credentials) in ${world.dir}`);
    world.config.diag.addr = `127.0.0.1:${freeLoopbackPort()}`;
    const plugin = await world.startPlugin();
    const ids: string[] = [];
    const created = (id: string) => {
      ids.push(id);
      timeline.track(id);
      timeline.poll();
      return id;
    };
    timeline.emit("demo", `plugin ready: connected over mTLS, watching access requests`);
    return {
      world,
      backend,
      plugin,
      timeline,
      request: (user, role, oncall = []) =>
        created(world.teleport.createRequest({
          user,
          roles: [role],
          reason: "demo",
          systemAnnotations: backend.annotations([backend.targets.notify], oncall),
        })),
      requestWithout: (user, role) =>
        created(world.teleport.createRequest({ user, roles: [role], reason: "demo" })),
      requestIds: () => [...ids],
      async [Symbol.asyncDispose]() {
        timeline.stop();
        await world[Symbol.asyncDispose]();
      },
    };
  } catch (err) {
    await world[Symbol.asyncDispose]();
    throw err;
  }
}

/** Waits for `what`, or throws MissingStep naming it. */
async function step<T>(what: string, probe: () => T | undefined | false, timeoutMs: number): Promise<T> {
  try {
    return await eventually(what, probe, timeoutMs);
  } catch {
    throw new MissingStep(`${what} did not happen within ${timeoutMs / 1000} s`);
  }
}

/** The notification closed, with a review note and a resolution note. */
async function closedWithNotes(
  env: DemoEnv,
  requestId: string,
  whose: string,
  timeoutMs: number,
): Promise<void> {
  const { noun, closedWord } = env.backend;
  const find = (): Notified | undefined => env.backend.find(requestId);
  await step(`review note on ${whose}'s ${noun}`, () => {
    return find()?.notes.some((n) => n.includes("reviewed the request"));
  }, timeoutMs);
  await step(`resolution note on ${whose}'s ${noun}`, () => {
    return find()?.notes.some((n) => n.startsWith("Access request has been"));
  }, timeoutMs);
  await step(`${whose}'s ${noun} ${closedWord}`, () => find()?.closed, timeoutMs);
}

/** Plays the story; throws MissingStep when something does not happen in time. */
export async function playStory(
  env: DemoEnv,
  opts: { stepTimeoutMs?: number } = {},
): Promise<void> {
  const { world, timeline, backend } = env;
  const { noun, targets, targetWord } = backend;
  const timeout = opts.stepTimeoutMs ?? STEP_TIMEOUT_MS;
  const notificationFor = (who: string, id: string) => `${noun} for ${who}'s request ${shortId(id)}`;

  timeline.note(`\n# ${REQUESTER} requests role editor; ${REVIEWER} approves it`);
  const alice = env.request(REQUESTER, "editor");
  await step(notificationFor(REQUESTER, alice), () => backend.find(alice), timeout);
  await settle();
  world.teleport.review(REVIEWER, alice, "APPROVED", "ok for the release");
  timeline.poll();
  await closedWithNotes(env, alice, REQUESTER, timeout);
  await settle();

  timeline.note(
    `\n# ${ONCALL_USER}, on call for ${targets.oncall}, requests demo-role; the plugin approves it`,
  );
  const bob = env.request(ONCALL_USER, "demo-role", [targets.oncall]);
  await step(notificationFor(ONCALL_USER, bob), () => backend.find(bob), timeout);
  await step(`the plugin's approval of ${ONCALL_USER}'s request`, () => {
    return world.teleport.getRequest(bob)?.reviews.some((r) => r.author === PLUGIN_USER) &&
      world.teleport.getRequest(bob)?.state === "APPROVED";
  }, timeout);
  await closedWithNotes(env, bob, ONCALL_USER, timeout);
  await settle();
  timeline.poll();

  timeline.note(
    `\n# an Access Monitoring Rule routes db-admin requests to ${targets.db}; ${DB_REQUESTER}'s request names no ${targetWord}`,
  );
  world.teleport.upsertRule({
    name: DB_RULE,
    subjects: ["access_request"],
    condition: 'access_request.spec.roles.contains("db-admin")',
    notification: { name: backend.name, recipients: [targets.db] },
    schedules: {},
  });
  timeline.emit(
    "teleport",
    `access_monitoring_rule ${DB_RULE} created: db-admin requests notify ${targets.db}`,
  );
  const carol = env.requestWithout(DB_REQUESTER, "db-admin");
  await step(
    `${noun} in ${targets.db} for ${DB_REQUESTER}'s request ${shortId(carol)}`,
    () => backend.find(carol)?.targets.includes(targets.db),
    timeout,
  );
  world.teleport.review(REVIEWER, carol, "APPROVED", "maintenance window");
  timeline.poll();
  await closedWithNotes(env, carol, DB_REQUESTER, timeout);
  await settle();
  timeline.poll();
}

/** A short pause between acts, so late calls (there should be none) land in their act. */
function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback port nothing listens on right now (for the plugin's diagnostics address). */
function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
