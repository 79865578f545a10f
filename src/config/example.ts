/**
 * The example configuration printed by `teleport-pagerduty configure`. Same
 * sections and order as upstream's example_config.toml; our additions follow
 * each section, commented out at their defaults.
 */
export const EXAMPLE_CONFIG = `# example teleport-pagerduty configuration TOML file
[teleport]
# Teleport Auth/Proxy Server address.
# addr = "example.com:3025"
#
# Should be port 3025 for Auth Server and 3080 or 443 for Proxy.
# For Teleport Cloud, should be in the form "your-account.teleport.sh:443".
addr = "example.com:3025"

# Credentials generated with \`tctl auth sign\`.
#
# When using --format=file:
# identity = "/var/lib/teleport/plugins/pagerduty/auth_id"    # Identity file
# refresh_identity = true                                     # Refresh identity file on a periodic basis.
#
# When using --format=tls:
# client_key = "/var/lib/teleport/plugins/pagerduty/auth.key" # Teleport TLS secret key
# client_crt = "/var/lib/teleport/plugins/pagerduty/auth.crt" # Teleport TLS certificate
# root_cas = "/var/lib/teleport/plugins/pagerduty/auth.cas"   # Teleport CA certs

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

[pagerduty]
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

# Names of the access request annotations the plugin reads.
# [pagerduty.request_annotations]
# notify_service = "pagerduty_notify_service" # service that receives the incident
# services = "pagerduty_services"             # services whose on-call users are auto-approved

[log]
output = "stderr" # Logger output. Could be "stdout", "stderr" or "/var/log/teleport-pagerduty/plugin.log"
severity = "INFO" # Logger severity. Could be "INFO", "ERROR", "DEBUG" or "WARN".
# format = "text" # "text" or "json" (one JSON object per line)

# Health endpoints for probes and monitors: GET /healthz (the process is up) and
# GET /readyz (200 while the plugin is watching Teleport, else 503). Off unless set.
# [diag]
# addr = "127.0.0.1:3434"
`;
