/** teleport-opsgenie: the same CLI as teleport-pagerduty, with Opsgenie's configuration and backend. */
import {
  DEFAULT_OPSGENIE_CONFIG_PATH,
  loadOpsgenieConfig,
  type OpsgenieProgramConfig,
} from "../config/opsgenie.ts";
import { OPSGENIE_EXAMPLE_CONFIG } from "../config/opsgenie_example.ts";
import { planOpsgenieReload } from "../ops/reload_plan.ts";
import type { ProgramSpec, RunProgram } from "./spec.ts";

export const OPSGENIE_APP_NAME = "teleport-opsgenie";

/** teleport-opsgenie's main loop, loaded on demand (see ProgramSpec.loadPlugin). */
export const loadOpsgeniePlugin = async (): Promise<RunProgram<OpsgenieProgramConfig>> =>
  (await import("../run.ts")).runOpsgenie;

export const OPSGENIE_PROGRAM: ProgramSpec<OpsgenieProgramConfig> = {
  name: OPSGENIE_APP_NAME,
  description:
    "Teleport plugin for access requests approval via Opsgenie (or Jira Service Management Operations).",
  product: "Opsgenie",
  exampleConfig: OPSGENIE_EXAMPLE_CONFIG,
  defaultConfigPath: DEFAULT_OPSGENIE_CONFIG_PATH,
  loadConfig: loadOpsgenieConfig,
  secretsOf: (config) =>
    [config.opsgenie.apiKey ?? "", config.opsgenie.apiToken ?? ""].filter((s) => s !== ""),
  planReload: planOpsgenieReload,
  loadPlugin: loadOpsgeniePlugin,
};
