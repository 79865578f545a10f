import type { Config } from "../../src/config/types.ts";
import { EXAMPLE_CONFIG } from "../../src/config/example.ts";

/** The example with the TLS trio uncommented, as an operator would fill it in. */
export function filledExample(example = EXAMPLE_CONFIG): string {
  return example
    .replace(/^# (client_key|client_crt|root_cas) = /gm, "$1 = ")
    .replace('api_key = "key"', 'api_key = "example-api-key"');
}

/** A valid, fully-defaulted configuration for tests that need one without a file. */
export function testConfig(
  overrides: { userEmail?: string; diagAddr?: string; source?: string } = {},
): Config {
  return {
    teleport: { addr: "auth:3025", refreshIdentity: false, refreshIdentityInterval: 60_000, identity: "/id" },
    pagerduty: {
      apiKey: "k",
      userEmail: overrides.userEmail ?? "bot@example.com",
      apiEndpoint: "https://api.pagerduty.com",
      rateLimitPerMinute: 960,
      maxConcurrentRequests: 64,
      requestTimeout: 10_000,
      requestAnnotations: { notifyService: "n", services: "s" },
      autoApproval: "on",
    },
    log: { output: "stderr", severity: "info", format: "text" },
    diag: { addr: overrides.diagAddr ?? "" },
    source: overrides.source ?? "/etc/plugin.toml",
  };
}
