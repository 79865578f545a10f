/**
 * The example configuration printed by `teleport-pagerduty configure`. Same
 * sections and order as upstream's example_config.toml; our additions follow
 * each section, commented out at their defaults.
 */

/** The `[teleport]` table, documented, with paths for `plugin` ("pagerduty", "opsgenie"). */
export function teleportSection(plugin: string): string {
  return `[teleport]
# Teleport Auth/Proxy Server address.
# addr = "example.com:3025"
#
# Should be port 3025 for Auth Server and 3080 or 443 for Proxy.
# For Teleport Cloud, should be in the form "your-account.teleport.sh:443".
addr = "example.com:3025"

# Credentials generated with \`tctl auth sign\`.
#
# When using --format=file:
# identity = "/var/lib/teleport/plugins/${plugin}/auth_id"    # Identity file
# refresh_identity = true                                     # Refresh identity file on a periodic basis.
#
# When using --format=tls:
# client_key = "/var/lib/teleport/plugins/${plugin}/auth.key" # Teleport TLS secret key
# client_crt = "/var/lib/teleport/plugins/${plugin}/auth.crt" # Teleport TLS certificate
# root_cas = "/var/lib/teleport/plugins/${plugin}/auth.cas"   # Teleport CA certs

# How often the identity file is re-read when refresh_identity = true
# (Go duration: "30s", "1m", "1h30m").
# refresh_identity_interval = "1m"
#
# Cluster name, needed only when addr is a Proxy with TLS routing and the
# cluster name cannot be read from the CA certificate.
# cluster_name = "example.com"
#
# How to reach the Auth Service at addr: "auto" tries a direct connection and TLS
# routing through a Proxy (whatever the port) and keeps the one that answers;
# "direct" or "tls-routing" forces one.
# dial_mode = "auto"

`;
}

/** The `[log]` and `[diag]` tables, documented, with paths for `plugin`. */
export function logSections(plugin: string): string {
  return `[log]
output = "stderr" # Logger output. Could be "stdout", "stderr" or "/var/log/teleport-${plugin}/plugin.log"
severity = "INFO" # Logger severity. Could be "INFO", "ERROR", "DEBUG" or "WARN".
# format = "text" # "text" or "json" (one JSON object per line)

# Diagnostics for probes and monitors: GET /livez (alias /healthz: the process is up),
# GET /readyz (200 or 503 with each component's status as JSON) and GET /metrics
# (Prometheus). Off unless set; keep it on loopback unless a scraper needs it.
# [diag]
# addr = "127.0.0.1:3001"

`;
}

export const EXAMPLE_CONFIG = `# example teleport-pagerduty configuration TOML file
${teleportSection("pagerduty")}[pagerduty]
api_key = "key"               # PagerDuty API Key (or the path of a file containing it, e.g. "/var/lib/teleport/plugins/pagerduty/pagerduty_api_key")
user_email = "me@example.com" # PagerDuty bot user email (Could be admin email)

# PagerDuty REST API base URL (e.g. "https://api.eu.pagerduty.com" for EU accounts, or a proxy).
# api_endpoint = "https://api.pagerduty.com"
#
# PEM CA bundle trusted in addition to the system roots, for a private api_endpoint.
# ca_file = "/etc/ssl/private-ca.pem"
#
# Client-side limit on PagerDuty API calls per minute.
# rate_limit_per_minute = 960
#
# Timeout of each PagerDuty API call (Go duration).
# request_timeout = "10s"
#
# Requests processed at once by this instance (each pass is one request's work).
# max_concurrent_requests = 64
#
# Auto-approval of requesters on call for a service named in the request's
# \`pagerduty_services\` annotation: "on" (default, as upstream), "off", or "dry-run"
# (log and note on the incident what would have been approved and why; submit nothing).
# auto_approval = "on"

# Names of the access request annotations the plugin reads.
# [pagerduty.request_annotations]
# notify_service = "pagerduty_notify_service" # service that receives the incident
# services = "pagerduty_services"             # services whose on-call users are auto-approved

${logSections("pagerduty")}# Approving and denying from PagerDuty (off by default; see the README section
# "Reviewing from PagerDuty" and \`teleport-pagerduty review-setup\`). Needs Teleport 18+
# and review_requests.submit_for_users on the plugin's role.
# [review]
# enabled = true
# listen_addr = "0.0.0.0:8443"                  # where PagerDuty's deliveries arrive
# public_url = "https://teleport-pd.example.com" # the https URL PagerDuty calls (review-setup)
# tls_cert_file = "/etc/teleport-pagerduty/tls.crt"  # serve https here, or behind a TLS proxy
# tls_key_file = "/etc/teleport-pagerduty/tls.key"
# services = ["PABC123"]                         # services the webhook subscription covers
# webhook_secret = "..."                        # the subscription secrets (whitespace-separated), or
# webhook_secret_file = "/var/lib/teleport/plugins/pagerduty/webhook_secret"
# approve_ids = ["PTRIGGER1"]                    # Incident Workflow or manual trigger ids
# deny_ids = ["PTRIGGER2"]
# Custom Incident Actions (unsigned by PagerDuty): the secret each sends in X-Teleport-Action-Secret.
# approve_action_secret = "..."                 # or:
# approve_action_secret_file = "/var/lib/teleport/plugins/pagerduty/approve_secret"
# deny_action_secret = "..."                    # or:
# deny_action_secret_file = "/var/lib/teleport/plugins/pagerduty/deny_secret"
# user_trait = "pagerduty_user_id"               # Teleport trait holding the PagerDuty user id
# match_email = false                            # also match PagerDuty email == Teleport username
`;
