/** The teleport-opsgenie configuration: `[opsgenie]` keys, defaults, errors with key and line. */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import {
  loadOpsgenieConfig,
  OPSGENIE_KNOWN_KEYS,
  type OpsgenieProgramConfig,
} from "../../src/config/opsgenie.ts";
import { OPSGENIE_EXAMPLE_CONFIG } from "../../src/config/opsgenie_example.ts";
import { filledExample } from "./helpers.ts";

const SECRET = "0b1c2d3e-SECRET-opsgenie-key";
const CREDS = `[teleport]\nidentity = "/var/lib/teleport/plugins/opsgenie/auth_id"\n`;
const OG = `[opsgenie]\napi_key = "${SECRET}"\n`;

/** Runs `fn` with a private temp dir, removed afterwards even when `fn` fails. */
async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function load(text: string, mode = 0o600) {
  return inTempDir(async (dir) => {
    const path = `${dir}/config.toml`;
    await Deno.writeTextFile(path, text, { mode });
    await Deno.chmod(path, mode);
    return { path, ...(await loadOpsgenieConfig(path)) };
  });
}

async function loadError(text: string): Promise<ConfigError> {
  const err = await load(text).then(() => undefined, (e) => e);
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
  assert.ok(!err.message.includes(SECRET), `secret leaked: ${err.message}`);
  assert.doesNotMatch(err.message, /\n/, "one line");
  return err;
}

Deno.test("defaults", async () => {
  const { config, warnings, path } = await load(CREDS + OG);
  const expected: OpsgenieProgramConfig["opsgenie"] = {
    api: "opsgenie",
    apiKey: SECRET,
    cloudId: undefined,
    userEmail: undefined,
    apiToken: undefined,
    apiEndpoint: "https://api.opsgenie.com",
    caFile: undefined,
    priority: undefined,
    defaultSchedules: [],
    defaultTeams: [],
    alertTags: [],
    requestTimeout: 10_000,
    rateLimitPerMinute: 600,
    maxConcurrentRequests: 64,
    autoApproval: "on",
  };
  assert.deepEqual(config.opsgenie, expected);
  assert.equal(config.source, path);
  assert.deepEqual(config.log, { output: "stderr", severity: "info", format: "text" });
  assert.deepEqual(warnings, []);
});

Deno.test("every [opsgenie] key is read", async () => {
  const { config, warnings } = await load(
    CREDS + `
[opsgenie]
api_key = "${SECRET}"
api_endpoint = "https://api.eu.opsgenie.com/"
ca_file = "/etc/ssl/ca.pem"
priority = "p2"
default_schedules = ["Teleport Notifications", " "]
default_teams = ["My Team"]
alert_tags = ["TeleportAccessRequest"]
request_timeout = "5s"
rate_limit_per_minute = 120
max_concurrent_requests = 16
auto_approval = "dry-run"
`,
  );
  assert.deepEqual(config.opsgenie, {
    api: "opsgenie",
    apiKey: SECRET,
    cloudId: undefined,
    userEmail: undefined,
    apiToken: undefined,
    apiEndpoint: "https://api.eu.opsgenie.com",
    caFile: "/etc/ssl/ca.pem",
    priority: "P2",
    defaultSchedules: ["Teleport Notifications"],
    defaultTeams: ["My Team"],
    alertTags: ["TeleportAccessRequest"],
    requestTimeout: 5_000,
    rateLimitPerMinute: 120,
    maxConcurrentRequests: 16,
    autoApproval: "dry-run",
  });
  assert.deepEqual(warnings, []);
});

Deno.test("api_key may name a file holding the key", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/key`, `${SECRET}\n`, { mode: 0o600 });
    const { config } = await load(CREDS + `[opsgenie]\napi_key = "${dir}/key"\n`);
    assert.equal(config.opsgenie.apiKey, SECRET);
  }));

Deno.test('api = "jsm" takes cloud_id, user_email and api_token (literal or file), and defaults the endpoint', () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/token`, `${SECRET}\n`, { mode: 0o600 });
    const { config } = await load(
      CREDS + `
[opsgenie]
api = "jsm"
cloud_id = "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
user_email = "teleport-bot@example.com"
api_token = "${dir}/token"
default_schedules = ["5e6f7a8b-2222-4a7e-9d0e-1b2c3d4e5f60"]
`,
    );
    assert.equal(config.opsgenie.api, "jsm");
    assert.equal(config.opsgenie.apiToken, SECRET);
    assert.equal(config.opsgenie.cloudId, "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b");
    assert.equal(config.opsgenie.apiEndpoint, "https://api.atlassian.com");
  }));

Deno.test('api = "jsm" names each missing or misplaced credential', async () => {
  const jsm = CREDS + '[opsgenie]\napi = "jsm"\n';
  assert.match(
    (await loadError(jsm)).message,
    /missing required value opsgenie\.cloud_id \(required with api = "jsm"\)/,
  );
  const withKey = jsm +
    'cloud_id = "3f1c6a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"\nuser_email = "a@b.c"\napi_token = "t"\napi_key = "k"\n';
  const err = await loadError(withKey);
  assert.match(err.message, /opsgenie\.api_key: is not used with api = "jsm"/);
  assert.equal(err.line, 8);
  assert.match(
    (await loadError(jsm + 'cloud_id = "my-site"\n')).message,
    /opsgenie\.cloud_id: must be the site's cloud id/,
  );
  assert.match(
    (await loadError(CREDS + OG + 'api = "pagerduty"\n')).message,
    /opsgenie\.api: must be "opsgenie" or "jsm"/,
  );
});

Deno.test("a missing api_key is named", async () => {
  const err = await loadError(CREDS + '[opsgenie]\npriority = "P1"\n');
  assert.match(err.message, /missing required value opsgenie\.api_key/);
});

Deno.test("a bad priority names the key and its line", async () => {
  const err = await loadError(CREDS + OG + 'priority = "P7"\n');
  assert.equal(err.keyPath, "opsgenie.priority");
  assert.equal(err.line, 5);
  assert.match(
    err.message,
    /config\.toml:5: opsgenie\.priority: must be one of P1, P2, P3, P4, P5, got "P7"$/,
  );
});

Deno.test("wrong types and values are one line each, with the key", async () => {
  const cases: Array<[string, RegExp]> = [
    ['default_schedules = "Nights"', /opsgenie\.default_schedules: must be an array of strings/],
    ["alert_tags = [1]", /opsgenie\.alert_tags\.0: must be a string, got number 1/],
    ['api_endpoint = "api.opsgenie.com"', /opsgenie\.api_endpoint: must be an http\(s\) URL/],
    ['api_endpoint = "https://api.opsgenie.com/v2/"', /without "\/v2"/],
    ["rate_limit_per_minute = 0", /opsgenie\.rate_limit_per_minute: must be a positive number/],
    ['request_timeout = "soon"', /opsgenie\.request_timeout/],
  ];
  for (const [line, pattern] of cases) {
    const err = await loadError(CREDS + OG + line + "\n");
    assert.match(err.message, pattern, line);
    assert.equal(err.line, 5, line);
  }
});

Deno.test("unknown keys and PagerDuty's table are reported as ignored", async () => {
  const { warnings } = await load(CREDS + OG + 'addr = "x"\n[pagerduty]\napi_key = "k"\n');
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /unknown configuration key opsgenie\.addr is ignored/);
  assert.match(warnings[1], /unknown configuration key pagerduty is ignored/);
});

Deno.test("the example is valid once credentials are filled in, and documents every key", async () => {
  const filled = filledExample(OPSGENIE_EXAMPLE_CONFIG)
    .replace('api_key = "/var/lib/teleport/plugins/opsgenie/opsgenie_api_key"', 'api_key = "k"');
  const { config, warnings } = await load(filled);
  assert.deepEqual(warnings, []);
  assert.equal(config.teleport.clientKey, "/var/lib/teleport/plugins/opsgenie/auth.key");
  const leaves = (tree: typeof OPSGENIE_KNOWN_KEYS): string[] =>
    Object.entries(tree).flatMap(([k, sub]) => sub === null ? [k] : [k, ...leaves(sub)]);
  for (const key of leaves(OPSGENIE_KNOWN_KEYS)) {
    if (key === "auth_server") continue;
    assert.match(OPSGENIE_EXAMPLE_CONFIG, new RegExp(`^#? ?(\\[.*)?${key}\\b`, "m"), key);
  }
  assert.doesNotMatch(OPSGENIE_EXAMPLE_CONFIG, /pagerduty/i);
});
