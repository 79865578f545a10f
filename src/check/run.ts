/** `check`: every item, in the order an operator would fix them. */
import { type BackendCheck, collectTargets } from "./backend.ts";
import { checkConfigFile, checkCredentialFiles } from "./files.ts";
import type { CheckItem } from "./report.ts";
import { checkTeleport } from "./teleport.ts";

/** Runs every check against the configuration at `path`; stops early only when it cannot be read. */
export async function runChecks(path: string, backend: BackendCheck, now = new Date()): Promise<CheckItem[]> {
  const { config, items } = await checkConfigFile(path);
  if (!config) return items;
  items.push(...await checkCredentialFiles(config.teleport, now));
  const teleport = await checkTeleport(config, backend.name);
  items.push(...teleport.items);
  const targets = teleport.roles &&
    collectTargets(teleport.roles, backend.annotations(config), teleport.rules);
  items.push(...await backend.check(config, targets));
  return items;
}
