/**
 * The setup guide's story, played against the shared doubles (src/doubles) with the
 * real plugin in between: a requester opens an incident, a reviewer approves it,
 * an on-call engineer is approved by the plugin itself, and an Access Monitoring Rule
 * routes a request that names no service.
 */
import {
  BOT_EMAIL,
  eventually,
  PLUGIN_USER,
  type RunningPlugin,
  startWorld,
  type World,
} from "../doubles/world.ts";
import type { DoubleIncident, DoubleService } from "../doubles/pagerduty_double.ts";
import { shortId, Timeline, type TimelineOptions } from "./timeline.ts";

export const NOTIFY_SERVICE = "Teleport Notifications";
export const ONCALL_SERVICE = "Service 1";
export const REQUESTER = "alice@example.com";
export const ONCALL_USER = "bob@example.com";
export const REVIEWER = "reviewer@example.com";
export const DB_SERVICE = "Database On-Call";
export const DB_REQUESTER = "carol@example.com";
/** The Access Monitoring Rule the demo creates: db-admin requests page the database on-call. */
export const DB_RULE = "db-admin-requests";
/** How long each step may take before the demo reports it missing. */
export const STEP_TIMEOUT_MS = 10_000;

export interface DemoEnv extends AsyncDisposable {
  world: World;
  plugin: RunningPlugin;
  timeline: Timeline;
  services: { notify: DoubleService; oncall: DoubleService; db: DoubleService };
  /** Creates a request the way a requester role with the guide's annotations would. */
  request(user: string, role: string, services?: string[]): string;
  /** Creates a request with no routing annotations (Access Monitoring Rules decide). */
  requestWithout(user: string, role: string): string;
  /** Ids of the requests created so far, oldest first. */
  requestIds(): string[];
}

/** A step that did not happen in time. */
export class MissingStep extends Error {
  override name = "MissingStep";
}

/**
 * Starts the doubles and the plugin and sets up the guide's PagerDuty and Teleport side:
 * services "Teleport Notifications" and "Service 1" (with an escalation policy), Bob on
 * call for Service 1, a human reviewer, and the plugin allowed to review `demo-role` only
 * (the guide's `review_requests.roles` + `where`).
 */
export async function setUpDemo(
  opts: Pick<TimelineOptions, "verbose" | "write"> = {},
): Promise<DemoEnv> {
  const world = await startWorld({ proxyPublicAddr: "teleport.example.com:443" });
  try {
    const pd = world.pagerduty;
    const notify = pd.addService({ name: NOTIFY_SERVICE });
    const oncall = pd.addService({ name: ONCALL_SERVICE });
    const db = pd.addService({ name: DB_SERVICE });
    pd.addUser({ name: "Teleport Bot", email: BOT_EMAIL });
    const bob = pd.addUser({ name: "Bob", email: ONCALL_USER });
    pd.addOnCall({ userId: bob.id, escalationPolicyId: oncall.escalationPolicyId });
    world.teleport.setReviewer(REVIEWER, ["editor", "demo-role", "db-admin"]);
    world.teleport.setReviewer(PLUGIN_USER, ["demo-role"]);
    // Credentials valid for a month (the world's last a day, which the plugin warns about).
    await world.teleport.writeCredentials(PLUGIN_USER, world.dir, { validForMs: 30 * 24 * 3600_000 });

    const timeline = new Timeline({
      teleport: world.teleport,
      pagerduty: pd,
      pluginUser: PLUGIN_USER,
      serviceNames: new Map([notify, oncall, db].map((s) => [s.id, s.name])),
      verbose: opts.verbose,
      write: opts.write,
    });
    timeline.start();
    timeline.emit("demo", `Teleport double on ${world.teleport.addr}, PagerDuty double at ${pd.url}`);
    timeline.emit("demo", `temporary files (credentials) in ${world.dir}`);
    world.config.diag.addr = `127.0.0.1:${freeLoopbackPort()}`;
    const plugin = await world.startPlugin();
    const ids: string[] = [];
    timeline.emit("demo", `plugin ready: connected over mTLS, watching access requests`);
    return {
      world,
      plugin,
      timeline,
      services: { notify, oncall, db },
      request(user, role, services = []) {
        const id = world.teleport.createRequest({
          user,
          roles: [role],
          reason: "demo",
          systemAnnotations: {
            pagerduty_notify_service: [NOTIFY_SERVICE],
            ...(services.length > 0 ? { pagerduty_services: services } : {}),
          },
        });
        ids.push(id);
        timeline.track(id);
        timeline.poll();
        return id;
      },
      requestWithout(user, role) {
        const id = world.teleport.createRequest({ user, roles: [role], reason: "demo" });
        ids.push(id);
        timeline.track(id);
        timeline.poll();
        return id;
      },
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

function incidentFor(env: DemoEnv, requestId: string): DoubleIncident | undefined {
  return env.world.pagerduty.incidents().find((i) =>
    i.incidentKey === `teleport-access-request/${requestId}`
  );
}

/** The incident resolved, with a review note and a resolution note. */
async function resolvedWithNotes(
  env: DemoEnv,
  requestId: string,
  whose: string,
  timeoutMs: number,
): Promise<void> {
  await step(`review note on ${whose}'s incident`, () => {
    return incidentFor(env, requestId)?.notes.some((n) => n.content.includes("reviewed the request"));
  }, timeoutMs);
  await step(`resolution note on ${whose}'s incident`, () => {
    return incidentFor(env, requestId)?.notes.some((n) => n.content.startsWith("Access request has been"));
  }, timeoutMs);
  await step(
    `${whose}'s incident resolved`,
    () => incidentFor(env, requestId)?.status === "resolved",
    timeoutMs,
  );
}

/** Plays the story; throws MissingStep when something does not happen in time. */
export async function playStory(
  env: DemoEnv,
  opts: { stepTimeoutMs?: number } = {},
): Promise<void> {
  const { world, timeline } = env;
  const timeout = opts.stepTimeoutMs ?? STEP_TIMEOUT_MS;

  timeline.note(`\n# ${REQUESTER} requests role editor; ${REVIEWER} approves it`);
  const alice = env.request(REQUESTER, "editor");
  await step(`incident for ${REQUESTER}'s request ${shortId(alice)}`, () => incidentFor(env, alice), timeout);
  await settle();
  world.teleport.review(REVIEWER, alice, "APPROVED", "ok for the release");
  timeline.poll();
  await resolvedWithNotes(env, alice, REQUESTER, timeout);
  await settle();

  timeline.note(
    `\n# ${ONCALL_USER}, on call for ${ONCALL_SERVICE}, requests demo-role; the plugin approves it`,
  );
  const bob = env.request(ONCALL_USER, "demo-role", [ONCALL_SERVICE]);
  await step(`incident for ${ONCALL_USER}'s request ${shortId(bob)}`, () => incidentFor(env, bob), timeout);
  await step(`the plugin's approval of ${ONCALL_USER}'s request`, () => {
    return world.teleport.getRequest(bob)?.reviews.some((r) => r.author === PLUGIN_USER) &&
      world.teleport.getRequest(bob)?.state === "APPROVED";
  }, timeout);
  await resolvedWithNotes(env, bob, ONCALL_USER, timeout);
  await settle();
  timeline.poll();

  timeline.note(
    `\n# an Access Monitoring Rule routes db-admin requests to ${DB_SERVICE}; ${DB_REQUESTER}'s request names no service`,
  );
  world.teleport.upsertRule({
    name: DB_RULE,
    subjects: ["access_request"],
    condition: 'access_request.spec.roles.contains("db-admin")',
    notification: { name: "pagerduty", recipients: [DB_SERVICE] },
    schedules: {},
  });
  timeline.emit(
    "teleport",
    `access_monitoring_rule ${DB_RULE} created: db-admin requests notify ${DB_SERVICE}`,
  );
  const carol = env.requestWithout(DB_REQUESTER, "db-admin");
  await step(
    `incident in ${DB_SERVICE} for ${DB_REQUESTER}'s request ${shortId(carol)}`,
    () => {
      const incident = incidentFor(env, carol);
      return incident?.serviceId === env.services.db.id ? incident : undefined;
    },
    timeout,
  );
  world.teleport.review(REVIEWER, carol, "APPROVED", "maintenance window");
  timeline.poll();
  await resolvedWithNotes(env, carol, DB_REQUESTER, timeout);
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
