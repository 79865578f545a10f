/**
 * Teleport: reachable with the configured identity, server version, cluster name, the
 * plugin's permissions, and the roles (for the request annotations they set). Reads
 * only; nothing is written anywhere.
 */
import type { Config } from "../config/types.ts";
import { TeleportClient } from "../teleport/client.ts";
import { AccessDeniedError, IncompatibleVersionError, NotImplementedError } from "../teleport/errors.ts";
import type { Role } from "../teleport/roles.ts";
import type { AccessMonitoringRule } from "../core/types.ts";
import { checkPermissions } from "./permissions.ts";
import { type CheckItem, error, ok, warning } from "./report.ts";

export interface TeleportFindings {
  items: CheckItem[];
  /** Every role, when they could be read. */
  roles?: Role[];
  /** The Access Monitoring Rules that notify through this plugin (empty when unreadable). */
  rules: AccessMonitoringRule[];
}

const CALL_TIMEOUT_MS = 10_000;

/** Connects, pings, reads the plugin's roles, all roles and the rules notifying through `plugin`. */
export async function checkTeleport(config: Config, plugin: string): Promise<TeleportFindings> {
  const addr = config.teleport.addr;
  let client: TeleportClient;
  try {
    client = TeleportClient.connect(config.teleport, {
      callTimeoutMs: CALL_TIMEOUT_MS,
      watcherTiming: { failFast: true },
    });
  } catch (err) {
    return {
      items: [error("teleport.connect", (err as Error).message, "fix the credentials in [teleport]")],
      rules: [],
    };
  }
  const items: CheckItem[] = [];
  try {
    let pong;
    try {
      pong = await client.ping();
    } catch (err) {
      if (err instanceof IncompatibleVersionError) {
        items.push(error("teleport.version", err.message, "upgrade the Teleport Auth Service"));
      } else {
        items.push(
          error(
            "teleport.reachable",
            `cannot reach Teleport at ${addr}: ${(err as Error).message}`,
            "check teleport.addr, the network path, and that the identity belongs to this cluster",
          ),
        );
      }
      return { items, rules: [] };
    }
    items.push(ok("teleport.reachable", `Teleport at ${addr} answered as user ${client.user}`));
    items.push(ok("teleport.version", `server version ${pong.serverVersion}`));
    const configured = config.teleport.clusterName;
    items.push(
      configured && configured !== pong.clusterName
        ? warning(
          "teleport.cluster",
          `cluster name is ${pong.clusterName} but teleport.cluster_name says ${configured}`,
          `set teleport.cluster_name = "${pong.clusterName}" or remove it`,
        )
        : ok("teleport.cluster", `cluster name ${pong.clusterName}`),
    );

    try {
      items.push(
        ...checkPermissions(await client.currentUserRoles(), config.pagerduty.autoApproval, client.user),
      );
    } catch (err) {
      items.push(
        warning(
          "teleport.permissions",
          `cannot read the plugin's own roles: ${(err as Error).message}`,
          err instanceof NotImplementedError
            ? "upgrade Teleport to check permissions"
            : "retry; check the Auth Service logs",
        ),
      );
    }

    const rules = await readRules(client, plugin, items);
    try {
      const roles = await client.roles();
      items.push(ok("teleport.roles", `read ${roles.length} roles`));
      return { items, roles, rules };
    } catch (err) {
      const fix = err instanceof AccessDeniedError
        ? "add the rule {resources: [role], verbs: [list, read]} to the plugin's role (the preset access-plugin role has it)"
        : "retry; check the Auth Service logs";
      items.push(
        warning(
          "teleport.roles",
          `cannot read roles, so request annotations go unchecked: ${(err as Error).message}`,
          fix,
        ),
      );
      return { items, rules };
    }
  } finally {
    client.close();
  }
}

/** The rules notifying through `plugin`; unreadable rules are reported by the permission items. */
async function readRules(
  client: TeleportClient,
  plugin: string,
  items: CheckItem[],
): Promise<AccessMonitoringRule[]> {
  try {
    const rules = await client.listAccessMonitoringRules(plugin);
    items.push(
      ok(
        "teleport.access_monitoring_rules",
        `${rules.length} Access Monitoring Rule(s) notify through ${plugin}`,
      ),
    );
    return rules;
  } catch (err) {
    if (err instanceof NotImplementedError) {
      items.push(
        ok("teleport.access_monitoring_rules", "this Teleport has no Access Monitoring Rules (before v17)"),
      );
    } else if (!(err instanceof AccessDeniedError)) {
      items.push(
        warning(
          "teleport.access_monitoring_rules",
          `cannot list Access Monitoring Rules: ${(err as Error).message}`,
          "retry; check the Auth Service logs",
        ),
      );
    }
    return [];
  }
}
