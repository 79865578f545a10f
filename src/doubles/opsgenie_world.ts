/**
 * A whole world for teleport-opsgenie: the Teleport double, an Opsgenie double or a
 * JSM Operations double, and a config pointing at both. Plugins started here are the
 * real `runOpsgenie`, in process. Used by the Opsgenie parity suite and the bench.
 */
import type { OpsgenieProgramConfig } from "../config/opsgenie.ts";
import { runOpsgenie } from "../run.ts";
import type { AlertApiDouble } from "./alert_api_double.ts";
import { JsmDouble } from "./jsm_double.ts";
import { OpsgenieDouble } from "./opsgenie_double.ts";
import type { TeleportDoubleOptions } from "./teleport_double.ts";
import { FAST_TIMINGS, Instances, type RunningPlugin, startTeleportSide, type World } from "./world.ts";

export type AlertApi = "opsgenie" | "jsm";

export interface OpsgenieWorld extends Omit<World, "pagerduty" | "config"> {
  api: AlertApi;
  /** The alert API double: OpsgenieDouble or JsmDouble. */
  alerts: AlertApiDouble;
  config: OpsgenieProgramConfig;
  /**
   * Adds a schedule; `onCall` lists Teleport user names (e-mails). Returns how requests
   * must name it: its name on Opsgenie, its id on JSM (which addresses schedules by id).
   */
  addSchedule(name: string, onCall?: string[]): string;
  /** How requests name a team: the name on Opsgenie, an id on JSM. */
  teamRef(name: string): string;
}

/** Starts a world on Opsgenie's API or JSM Operations'. */
export async function startOpsgenieWorld(
  api: AlertApi = "opsgenie",
  options: TeleportDoubleOptions = {},
): Promise<OpsgenieWorld> {
  const base = await startTeleportSide(options, "teleport-opsgenie-world-");
  const jsm = api === "jsm" ? await JsmDouble.start() : undefined;
  const og = jsm ? undefined : await OpsgenieDouble.start();
  const alerts: AlertApiDouble = (jsm ?? og)!;
  const credentials = jsm
    ? { api: "jsm" as const, cloudId: jsm.cloudId, userEmail: jsm.email, apiToken: jsm.apiToken }
    : { api: "opsgenie" as const, apiKey: og!.apiKey };
  const config: OpsgenieProgramConfig = {
    teleport: base.teleportConfig,
    opsgenie: {
      ...credentials,
      apiEndpoint: alerts.url,
      defaultSchedules: [],
      defaultTeams: [],
      alertTags: [],
      requestTimeout: 10_000,
      rateLimitPerMinute: 60_000,
      maxConcurrentRequests: 64,
      autoApproval: "on",
    },
    log: { output: "stderr", severity: "info", format: "text" },
    diag: { addr: "" },
    source: "world",
  };
  const instances = new Instances(runOpsgenie, config);
  const accounts = new Map<string, string>();
  const teams = new Map<string, string>();
  const account = (email: string) => {
    if (!jsm) return email;
    if (!accounts.has(email)) accounts.set(email, jsm.addUser({ email }));
    return accounts.get(email)!;
  };
  return {
    api,
    teleport: base.teleport,
    alerts,
    dir: base.dir,
    credentials: base.credentials,
    config,
    startPlugin: (overrides = {}): Promise<RunningPlugin> =>
      instances.start({ ...FAST_TIMINGS, ...overrides }),
    addSchedule(name, onCall = []) {
      const schedule = alerts.addSchedule({ name, onCall: onCall.map(account) });
      return jsm ? schedule.id : schedule.name;
    },
    teamRef(name) {
      if (!jsm) return name;
      if (!teams.has(name)) teams.set(name, crypto.randomUUID());
      return teams.get(name)!;
    },
    /** Stops the instances, closes the doubles and removes the credentials, whatever fails on the way. */
    async [Symbol.asyncDispose]() {
      try {
        await instances.stopAll();
      } finally {
        try {
          await alerts.close();
        } finally {
          await base.close();
        }
      }
    },
  };
}
