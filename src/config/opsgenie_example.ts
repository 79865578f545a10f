/**
 * The example configuration printed by `teleport-opsgenie configure`: the same
 * `[teleport]`, `[log]` and `[diag]` tables as teleport-pagerduty, and every
 * `[opsgenie]` key documented.
 */
import { logSections, teleportSection } from "./example.ts";

export const OPSGENIE_EXAMPLE_CONFIG = `# example teleport-opsgenie configuration TOML file
${teleportSection("opsgenie")}
[opsgenie]
# Which API: "opsgenie" (default), or "jsm" for Jira Service Management Operations,
# Opsgenie's successor (Opsgenie's REST API ends on 2027-04-05).
# api = "opsgenie"

# Opsgenie API key of an API integration (Settings → Integrations → API), or the
# path of a file containing it. It needs Create and Update access and, for
# auto-approval, Read access to the schedules named in teleport.dev/schedules.
api_key = "/var/lib/teleport/plugins/opsgenie/opsgenie_api_key"

# With api = "jsm", instead of api_key: the site's cloud id (a UUID, shown at
# https://<site>.atlassian.net/_edge/tenant_info), and the e-mail and API token of the
# plugin's Atlassian account (or the path of a file holding the token). JSM addresses
# schedules and teams by id only, in annotations and defaults alike.
# cloud_id = "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
# user_email = "teleport-bot@example.com"
# api_token = "/var/lib/teleport/plugins/opsgenie/jsm_api_token"

# API host root: "https://api.eu.opsgenie.com" for Opsgenie EU accounts;
# "https://api.atlassian.com" is the default with api = "jsm".
# api_endpoint = "https://api.opsgenie.com"
#
# PEM CA bundle trusted in addition to the system roots, for a private api_endpoint.
# ca_file = "/etc/ssl/private-ca.pem"
#
# Priority of the alerts: P1 (critical) to P5 (informational). Unset: Opsgenie's default, P3.
# priority = "P3"
#
# Schedules (names, or ids) that receive the alert when the access request names
# no schedule in teleport.dev/notify-services and no team in teleport.dev/teams.
# default_schedules = ["teleport-access-request-notifications"]
#
# Teams (names, or ids) that receive the alert when the request names none in teleport.dev/teams.
# default_teams = []
#
# Tags set on every alert (at most 20, each cut to 50 characters).
# alert_tags = ["TeleportAccessRequest"]
#
# Timeout of each Opsgenie API call (Go duration).
# request_timeout = "10s"
#
# Client-side limit on Opsgenie API calls per minute, per Opsgenie rate-limit
# domain (alerts, schedules, heartbeats).
# rate_limit_per_minute = 600
#
# Requests processed at once by this instance (each pass is one request's work).
# max_concurrent_requests = 64
#
# Auto-approval of requesters on call in a schedule named in the request's
# \`teleport.dev/schedules\` annotation: "on" (default, as upstream), "off", or "dry-run"
# (log and note on the alert what would have been approved and why; submit nothing).
# auto_approval = "on"

${logSections("opsgenie")}`;
