/**
 * `check` for PagerDuty: the API key works and may write, `user_email` is a PagerDuty
 * user, and every service named in the roles' request annotations exists (with the
 * nearest name for a typo). Reads only; the write-access probe changes nothing.
 */
import type { BackendCheck, NamedTargets, TargetAnnotation } from "../../check/backend.ts";
import { type CheckItem, error, ok, warning } from "../../check/report.ts";
import { nearestName } from "../../check/suggest.ts";
import type { Config } from "../../config/types.ts";
import { PagerDutyClient } from "./client.ts";
import { PagerDutyAuthError } from "./errors.ts";

/** Short retries: `check` reports a failing API instead of waiting it out. */
const CHECK_RETRY = { deadlineMs: 10_000, baseDelayMs: 250, maxDelayMs: 2_000 };

export const pagerDutyCheck: BackendCheck = {
  name: "pagerduty",
  annotations(config: Config): TargetAnnotation[] {
    const { notifyService, services } = config.pagerduty.requestAnnotations;
    return [{ key: notifyService, routes: true }, { key: services, routes: false }];
  },
  async check(config: Config, targets: NamedTargets | undefined): Promise<CheckItem[]> {
    using client = new PagerDutyClient(config.pagerduty, { retry: CHECK_RETRY });
    const endpoint = config.pagerduty.apiEndpoint;
    const items: CheckItem[] = [];
    try {
      await client.healthCheck();
      items.push(ok("pagerduty.api_key", `the API key is accepted by ${endpoint}`));
    } catch (err) {
      items.push(
        err instanceof PagerDutyAuthError
          ? error(
            "pagerduty.api_key",
            `${endpoint} rejects the API key: ${err.message}`,
            "set pagerduty.api_key to a valid REST API key (Integrations → API Access Keys)",
          )
          : error(
            "pagerduty.api_key",
            `cannot reach ${endpoint}: ${(err as Error).message}`,
            "check pagerduty.api_endpoint, the network path and HTTPS_PROXY",
          ),
      );
      return items;
    }

    try {
      items.push(
        await client.canWrite()
          ? ok("pagerduty.write_access", "the API key may write (incidents, notes)")
          : error(
            "pagerduty.write_access",
            "the API key is read-only: incidents cannot be created",
            'create a REST API key without "Read-only API Key" and set pagerduty.api_key',
          ),
      );
    } catch (err) {
      items.push(
        warning(
          "pagerduty.write_access",
          `could not tell whether the key may write: ${(err as Error).message}`,
          "retry later",
        ),
      );
    }

    const email = config.pagerduty.userEmail;
    try {
      const user = await client.findUserByEmail(email);
      items.push(
        user ? ok("pagerduty.user_email", `${email} is PagerDuty user ${user.name} (${user.id})`) : error(
          "pagerduty.user_email",
          `no PagerDuty user has the email ${email}; notes and resolutions need one`,
          "set pagerduty.user_email to the email of a PagerDuty user (the bot's)",
        ),
      );
    } catch (err) {
      items.push(
        warning(
          "pagerduty.user_email",
          `could not look up ${email}: ${(err as Error).message}`,
          "retry later",
        ),
      );
    }

    if (targets) items.push(...await checkServices(client, config, targets));
    return items;
  },
};

async function checkServices(
  client: PagerDutyClient,
  config: Config,
  targets: NamedTargets,
): Promise<CheckItem[]> {
  const { notifyService } = config.pagerduty.requestAnnotations;
  if (!targets.routed) {
    return [warning(
      "pagerduty.services",
      `no role sets the request annotation ${notifyService} and no Access Monitoring Rule notifies through pagerduty, so no request will open an incident`,
      `add \`request: {annotations: {${notifyService}: ["<service name>"]}}\` to the roles of users who request access, or an Access Monitoring Rule`,
    )];
  }
  let existing: string[];
  try {
    existing = await client.listServiceNames();
  } catch (err) {
    return [
      warning(
        "pagerduty.services",
        `could not list PagerDuty services: ${(err as Error).message}`,
        "retry later",
      ),
    ];
  }
  const byLowerName = new Set(existing.map((name) => name.toLowerCase()));
  const items: CheckItem[] = [];
  for (const [name, places] of [...targets.names].sort(([a], [b]) => a.localeCompare(b))) {
    const id = "pagerduty.service";
    const where = places.join("; ");
    if (name.includes("{{")) {
      items.push(
        warning(
          id,
          `"${name}" (${where}) is a template, resolved per user; it cannot be checked here`,
          "make sure every user's trait names an existing service",
        ),
      );
    } else if (byLowerName.has(name.toLowerCase())) {
      items.push(ok(id, `service "${name}" exists (${where})`));
    } else {
      const nearest = nearestName(name, existing);
      items.push(error(
        id,
        `no PagerDuty service is named "${name}" (${where})${nearest ? `; did you mean "${nearest}"?` : ""}`,
        nearest
          ? `change "${name}" to "${nearest}" (${where})`
          : `create the service in PagerDuty or fix the name (${where})`,
      ));
    }
  }
  return items;
}
