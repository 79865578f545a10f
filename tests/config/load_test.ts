import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/config/errors.ts";
import type { Config } from "../../src/config/types.ts";
import { tempDirForFile } from "../fakes/temp_dir.ts";

const SECRET = "u+SECRETpagerdutyKEY123";

const CREDS = `[teleport]\nidentity = "/var/lib/teleport/plugins/pagerduty/auth_id"\n`;
const PD = `[pagerduty]\napi_key = "${SECRET}"\nuser_email = "bot@example.com"\n`;

const DIR = await tempDirForFile("config-test-");
let dirs = 0;
/** A fresh directory under this file's temporary directory (removed after the last test). */
async function newDir(): Promise<string> {
  const dir = `${DIR}/${++dirs}`;
  await Deno.mkdir(dir);
  return dir;
}

/** Writes `text` to a private temp file and loads it. */
async function load(text: string, mode = 0o600) {
  const dir = await newDir();
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(path, text, { mode });
  await Deno.chmod(path, mode);
  return { path, ...(await loadConfig(path)) };
}

async function loadError(text: string): Promise<ConfigError> {
  const err = await load(text).then(() => undefined, (e) => e);
  assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
  assert.ok(!err.message.includes(SECRET), `secret leaked: ${err.message}`);
  return err;
}

Deno.test("defaults match upstream (TestConfigDefaults) plus our additions", async () => {
  const { config, warnings, path } = await load(CREDS + PD);
  const expected: Config = {
    teleport: {
      addr: "localhost:3025",
      identity: "/var/lib/teleport/plugins/pagerduty/auth_id",
      refreshIdentity: false,
      refreshIdentityInterval: 60_000,
      clientKey: undefined,
      clientCrt: undefined,
      rootCas: undefined,
      clusterName: undefined,
      dialMode: "auto",
    },
    pagerduty: {
      apiKey: SECRET,
      userEmail: "bot@example.com",
      apiEndpoint: "https://api.pagerduty.com",
      caFile: undefined,
      rateLimitPerMinute: 960,
      maxConcurrentRequests: 64,
      requestTimeout: 10_000,
      requestAnnotations: { notifyService: "pagerduty_notify_service", services: "pagerduty_services" },
      autoApproval: "on",
    },
    log: { output: "stderr", severity: "info", format: "text" },
    diag: { addr: "" },
    review: {
      enabled: false,
      listenAddr: "",
      publicUrl: undefined,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      webhookSecrets: [],
      approveIds: [],
      denyIds: [],
      actionSecrets: { approve: undefined, deny: undefined },
      services: [],
      userTrait: "pagerduty_user_id",
      matchEmail: false,
    },
    source: path,
  };
  assert.deepEqual(config, expected);
  assert.deepEqual(warnings, []);
});

Deno.test("every documented key is read", async () => {
  const { config, warnings } = await load(`
[teleport]
addr = "teleport.example.com:443"
identity = "/id"
refresh_identity = true
refresh_identity_interval = "30s"
cluster_name = "example.com"
[pagerduty]
api_key = "${SECRET}"
user_email = "bot@example.com"
api_endpoint = "https://api.eu.pagerduty.com/"
ca_file = "/etc/ca.pem"
rate_limit_per_minute = 120
request_timeout = 2_500_000_000
[pagerduty.request_annotations]
notify_service = "notify"
services = "svcs"
[log]
output = "/var/log/pd.log"
severity = "DEBUG"
format = "JSON"
[diag]
addr = "127.0.0.1:3434"
`);
  assert.deepEqual(warnings, []);
  assert.equal(config.teleport.addr, "teleport.example.com:443");
  assert.equal(config.teleport.refreshIdentity, true);
  assert.equal(config.teleport.refreshIdentityInterval, 30_000);
  assert.equal(config.teleport.clusterName, "example.com");
  assert.equal(config.pagerduty.apiEndpoint, "https://api.eu.pagerduty.com");
  assert.equal(config.pagerduty.caFile, "/etc/ca.pem");
  assert.equal(config.pagerduty.rateLimitPerMinute, 120);
  assert.equal(config.pagerduty.maxConcurrentRequests, 64, "the default");
  assert.equal(config.pagerduty.requestTimeout, 2500);
  assert.deepEqual(config.pagerduty.requestAnnotations, { notifyService: "notify", services: "svcs" });
  assert.deepEqual(config.log, { output: "/var/log/pd.log", severity: "debug", format: "json" });
  assert.deepEqual(config.diag, { addr: "127.0.0.1:3434" });
});

Deno.test("pagerduty.auto_approval is on by default, off or dry-run when set, and nothing else", async () => {
  assert.equal((await load(`${CREDS}${PD}`)).config.pagerduty.autoApproval, "on");
  for (const mode of ["on", "off", "dry-run", "DRY-RUN"]) {
    const { config } = await load(`${CREDS}${PD}auto_approval = "${mode}"\n`);
    assert.equal(config.pagerduty.autoApproval, mode.toLowerCase());
  }
  for (const bad of ['"yes"', "true"]) {
    const error = await loadError(`${CREDS}${PD}auto_approval = ${bad}\n`);
    assert.match(error.message, /pagerduty\.auto_approval: must be "on", "off" or "dry-run", got/, bad);
  }
});

Deno.test("the health endpoint address must be host:port", async () => {
  for (const addr of ["3434", "http://127.0.0.1:3434", "127.0.0.1"]) {
    const error = await loadError(`${CREDS}${PD}[diag]\naddr = "${addr}"\n`);
    assert.match(error.message, /diag\.addr: must be host:port/, addr);
  }
  const { config } = await load(`${CREDS}${PD}[diag]\naddr = "[::1]:3434"\n`);
  assert.equal(config.diag.addr, "[::1]:3434");
});

Deno.test("TLS trio is accepted as credentials", async () => {
  const { config } = await load(`[teleport]\nclient_key = "k"\nclient_crt = "c"\nroot_cas = "r"\n${PD}`);
  assert.deepEqual([config.teleport.clientKey, config.teleport.clientCrt, config.teleport.rootCas], [
    "k",
    "c",
    "r",
  ]);
});

Deno.test("teleport credential rules use upstream messages", async () => {
  const partial = await loadError(`[teleport]\nclient_key = "k"\nroot_cas = "r"\n${PD}`);
  assert.match(
    partial.message,
    /configuration setting\(s\) `client_key`, `root_cas` are provided but setting\(s\) `client_crt` are missing/,
  );
  const exclusive = await loadError(
    `[teleport]\nidentity="i"\nclient_key="k"\nclient_crt="c"\nroot_cas="r"\n${PD}`,
  );
  assert.match(
    exclusive.message,
    /configuration setting `identity` is mutually exclusive with all the `client_crt`, `client_key` and `root_cas` settings/,
  );
  const refresh = await loadError(
    `[teleport]\nrefresh_identity = true\nclient_key="k"\nclient_crt="c"\nroot_cas="r"\n${PD}`,
  );
  assert.match(refresh.message, /`refresh_identity` requires that `identity` be set/);
  assert.equal(refresh.keyPath, "teleport.refresh_identity");
  const none = await loadError(PD);
  assert.match(
    none.message,
    /no credentials configured: set `identity` or `client_key`, `client_crt` and `root_cas` in \[teleport\]/,
  );
});

Deno.test("auth_server is a deprecated alias of addr", async () => {
  const { config, warnings } = await load(`${CREDS}auth_server = "auth.example.com:3025"\n${PD}`);
  assert.equal(config.teleport.addr, "auth.example.com:3025");
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /Configuration setting `auth_server` is deprecated, consider to change it to `addr`/,
  );

  const both = await load(`${CREDS}addr = "a:3025"\nauth_server = "b:3025"\n${PD}`);
  assert.equal(both.config.teleport.addr, "a:3025");
  assert.match(both.warnings[0], /auth_server is ignored because teleport.addr is set/);
});

Deno.test("addr with a URL scheme is rejected", async () => {
  const err = await loadError(`${CREDS}addr = "https://teleport.example.com:443"\n${PD}`);
  assert.match(err.message, /teleport\.addr: must be host:port without a URL scheme/);
});

Deno.test("dial_mode is auto by default, forces a route when set, and names the key when wrong", async () => {
  const { config } = await load(`${CREDS}dial_mode = "tls-routing"\n${PD}`);
  assert.equal(config.teleport.dialMode, "tls-routing");
  const err = await loadError(`${CREDS}dial_mode = "sideways"\n${PD}`);
  assert.match(
    err.message,
    /teleport\.dial_mode: must be one of "auto", "direct", "tls-routing", got "sideways"/,
  );
});

Deno.test("refresh_identity_interval: zero means default, negative and garbage are errors", async () => {
  const zero = await load(`${CREDS}refresh_identity_interval = 0\n${PD}`);
  assert.equal(zero.config.teleport.refreshIdentityInterval, 60_000);
  const negative = await loadError(`${CREDS}refresh_identity_interval = "-1m"\n${PD}`);
  assert.match(negative.message, /teleport\.refresh_identity_interval: must not be negative, got "-1m"/);
  const garbage = await loadError(`${CREDS}refresh_identity_interval = "soon"\n${PD}`);
  assert.match(garbage.message, /teleport\.refresh_identity_interval: invalid duration "soon"/);
  const wrongType = await loadError(`${CREDS}refresh_identity_interval = true\n${PD}`);
  assert.match(wrongType.message, /must be a duration such as "30s" or "1m", got boolean true/);
});

Deno.test("pagerduty.api_key and user_email are required", async () => {
  const noKey = await loadError(`${CREDS}[pagerduty]\nuser_email = "bot@example.com"\n`);
  assert.match(noKey.message, /: missing required value pagerduty\.api_key$/);
  assert.equal(noKey.keyPath, "pagerduty.api_key");
  const blankKey = await loadError(`${CREDS}[pagerduty]\napi_key = "  "\nuser_email = "bot@example.com"\n`);
  assert.match(blankKey.message, /missing required value pagerduty\.api_key/);
  const noEmail = await loadError(`${CREDS}[pagerduty]\napi_key = "${SECRET}"\n`);
  assert.match(noEmail.message, /missing required value pagerduty\.user_email/);
  const noTable = await loadError(CREDS);
  assert.match(
    noTable.message,
    /missing required value pagerduty\.api_key; missing required value pagerduty\.user_email/,
  );
});

Deno.test("user_email must be a bare email address", async () => {
  for (const bad of ["nope", "Bot <bot@example.com>", "a b@example.com", "@example.com"]) {
    const err = await loadError(
      `${CREDS}[pagerduty]\napi_key = "${SECRET}"\nuser_email = ${JSON.stringify(bad)}\n`,
    );
    assert.ok(
      err.message.endsWith(`: pagerduty.user_email: must be an email address, got ${JSON.stringify(bad)}`),
      err.message,
    );
  }
});

Deno.test("api_endpoint must be an http(s) URL", async () => {
  const err = await loadError(`${CREDS}${PD}api_endpoint = "ftp://x"\n`);
  assert.match(err.message, /pagerduty\.api_endpoint: must be an http\(s\) URL, got "ftp:\/\/x"/);
  const local = await load(`${CREDS}${PD}api_endpoint = "http://127.0.0.1:8080"\n`);
  assert.equal(local.config.pagerduty.apiEndpoint, "http://127.0.0.1:8080");
});

Deno.test("rate_limit_per_minute and request_timeout are validated", async () => {
  assert.match(
    (await loadError(`${CREDS}${PD}rate_limit_per_minute = 0\n`)).message,
    /must be a positive number/,
  );
  assert.match(
    (await loadError(`${CREDS}${PD}rate_limit_per_minute = 1.5\n`)).message,
    /must be a whole number/,
  );
  assert.match((await loadError(`${CREDS}${PD}request_timeout = "10"\n`)).message, /invalid duration "10"/);
  assert.equal((await load(`${CREDS}${PD}request_timeout = "1m"\n`)).config.pagerduty.requestTimeout, 60_000);
});

Deno.test("api_key starting with / is read from that file", async () => {
  const dir = await newDir();
  const keyPath = `${dir}/pagerduty_api_key`;
  await Deno.writeTextFile(keyPath, `  ${SECRET}\n`, { mode: 0o600 });
  const { config, warnings } = await load(
    `${CREDS}[pagerduty]\napi_key = "${keyPath}"\nuser_email = "a@b.co"\n`,
  );
  assert.equal(config.pagerduty.apiKey, SECRET);
  assert.deepEqual(warnings, []);

  const missing = await loadError(`${CREDS}[pagerduty]\napi_key = "${dir}/absent"\nuser_email = "a@b.co"\n`);
  assert.match(missing.message, new RegExp(`pagerduty\\.api_key: Error reading API key file ${dir}/absent`));

  await Deno.writeTextFile(`${dir}/empty`, "\n");
  const empty = await loadError(`${CREDS}[pagerduty]\napi_key = "${dir}/empty"\nuser_email = "a@b.co"\n`);
  assert.match(empty.message, /missing required value pagerduty\.api_key/);

  await Deno.writeTextFile(`${dir}/huge`, "x".repeat(2001));
  const huge = await loadError(`${CREDS}[pagerduty]\napi_key = "${dir}/huge"\nuser_email = "a@b.co"\n`);
  assert.match(huge.message, /larger than 2000 bytes/);
});

Deno.test("secret files readable by others produce warnings", async () => {
  const inline = await load(CREDS + PD, 0o644);
  assert.equal(inline.warnings.length, 1);
  assert.match(
    inline.warnings[0],
    /configuration file containing pagerduty\.api_key .*\(mode 644\).*chmod 600/,
  );

  const dir = await newDir();
  await Deno.writeTextFile(`${dir}/key`, SECRET);
  await Deno.chmod(`${dir}/key`, 0o640);
  // The config itself holds no secret then, so its mode does not matter.
  const fromFile = await load(`${CREDS}[pagerduty]\napi_key = "${dir}/key"\nuser_email = "a@b.co"\n`, 0o644);
  assert.equal(fromFile.warnings.length, 1);
  assert.match(
    fromFile.warnings[0],
    /pagerduty\.api_key file .*\/key is accessible by group or other users \(mode 640\)/,
  );
  assert.ok(fromFile.warnings.every((w) => !w.includes(SECRET)));
});

Deno.test("annotation table accepts our spelling and the Go spellings", async () => {
  for (
    const table of [
      "request_annotations",
      "RequestAnnotations",
      "requestannotations",
      "REQUESTANNOTATIONS",
      "requestAnnotations",
    ]
  ) {
    const { config, warnings } = await load(
      `${CREDS}${PD}[pagerduty.${table}]\nnotify_service = "notify-me"\nservices = "on-call"\n`,
    );
    assert.deepEqual(
      config.pagerduty.requestAnnotations,
      { notifyService: "notify-me", services: "on-call" },
      table,
    );
    assert.deepEqual(warnings, [], table);
  }
  const empty = await load(`${CREDS}${PD}[pagerduty.RequestAnnotations]\nnotify_service = ""\n`);
  assert.equal(empty.config.pagerduty.requestAnnotations.notifyService, "pagerduty_notify_service");
});

Deno.test("keys match case-insensitively like go-toml (as-is, lower, upper)", async () => {
  const { config, warnings } = await load(
    `[TELEPORT]\nADDR = "a:1"\nidentity = "/id"\n${PD}[log]\nSEVERITY = "warn"\n`,
  );
  assert.equal(config.teleport.addr, "a:1");
  assert.equal(config.log.severity, "warn");
  assert.deepEqual(warnings, []);
  const twice = await load(
    `${CREDS}${PD}[pagerduty.RequestAnnotations]\nservices = "a"\n[pagerduty.request_annotations]\nservices = "b"\n`,
  );
  assert.equal(twice.config.pagerduty.requestAnnotations.services, "b");
  assert.match(
    twice.warnings[0],
    /config\.toml:6: pagerduty\.request_annotations and pagerduty\.RequestAnnotations name the same setting/,
  );
});

Deno.test("unknown and legacy keys are warned about, with key paths and lines", async () => {
  const { warnings, path } = await load(`${CREDS}adr = "typo"\n${PD}service_id = "PXXXX"\nauto_approve = true
[http]\npublic_addr = "https://x"\n[log]\nsevrity = "debug"\nTeleportUser = "x"\n`);
  assert.equal(warnings.length, 6, warnings.join("\n"));
  const has = (re: RegExp) =>
    assert.ok(warnings.some((w) => re.test(w)), `${re} not in ${warnings.join("\n")}`);
  has(new RegExp(`^${path}:3: unknown configuration key teleport\\.adr is ignored$`));
  has(/:12: unknown configuration key log\.sevrity is ignored/);
  has(/:13: unknown configuration key log\.TeleportUser is ignored/);
  has(/:7: pagerduty\.service_id is obsolete: .*removed in the 6\.2 rewrite/);
  has(/:8: pagerduty\.auto_approve is obsolete: .*6\.2 rewrite/);
  // [http] is reported once (at its header), not once per key inside it.
  assert.equal(warnings.filter((w) => w.includes("http")).length, 1);
  has(/:9: http is obsolete/);
});

Deno.test("TOML syntax errors carry file, line and column, and no code frame", async () => {
  const err = await loadError(`${CREDS}[pagerduty]\napi_key = "${SECRET}\nuser_email = "a@b.co"\n`);
  assert.equal(err.line, 4);
  assert.ok(err.column !== undefined);
  assert.match(err.message, /^\/.*config\.toml:4:\d+: invalid TOML: [^\n]+$/);
  const dup = await loadError(`${CREDS}${PD}[teleport]\naddr = "x"\n`);
  assert.match(dup.message, /:6:\d+: invalid TOML: trying to redefine/);
});

Deno.test("value errors name the line of the key, as syntax errors do", async () => {
  // CREDS is lines 1-2, PD lines 3-5.
  const fast = await loadError(`${CREDS}${PD}rate_limit_per_minute = "fast"\n`);
  assert.match(
    fast.message,
    /^\/.*config\.toml:6: pagerduty\.rate_limit_per_minute: must be a whole number, got "fast"$/,
  );
  assert.equal(fast.line, 6);

  const none = await loadError(`${CREDS}${PD}max_concurrent_requests = 0\n`);
  assert.match(
    none.message,
    /config\.toml:6: pagerduty\.max_concurrent_requests: must be between 1 and 1024, got number 0$/,
  );

  // Go spellings, dotted keys and inline tables are found too.
  const upper = await loadError(`[TELEPORT]\nidentity = "/x"\n\nADDR = "https://t:443"\n${PD}`);
  assert.match(upper.message, /config\.toml:4: teleport\.addr: must be host:port/);
  const dotted = await loadError(`${CREDS}${PD}RequestAnnotations.services = 5\n`);
  assert.match(dotted.message, /config\.toml:6: pagerduty\.request_annotations\.services: must be a string/);
  const inline = await loadError(
    `${CREDS}[log]\nseverity = "info"\n[pagerduty]\nuser_email = "bot@example.com"\n` +
      `api_key = "${SECRET}"\nrequest_annotations = { notify_service = "n", services = [] }\n`,
  );
  assert.match(inline.message, /config\.toml:8: pagerduty\.request_annotations\.services: must be a string/);

  // A missing key points at its table; several problems each name their line.
  const missing = await loadError(`${CREDS}\n[pagerduty]\nuser_email = "bot@example.com"\n`);
  assert.match(missing.message, /config\.toml:4: missing required value pagerduty\.api_key$/);
  const several = await loadError(`${CREDS}${PD}rate_limit_per_minute = 0\n[log]\nformat = "xml"\n`);
  assert.match(
    several.message,
    /config\.toml:6: pagerduty\.rate_limit_per_minute: must be a positive number, got number 0; line 8: log\.format: unsupported log format/,
  );
  const credentials = await loadError(`${PD}\n[teleport]\nclient_key = "/k"\n`);
  assert.match(
    credentials.message,
    /config\.toml:5: teleport: configuration setting\(s\) `client_key` are provided/,
  );

  const dir = await newDir();
  const keyFile = await loadError(`${CREDS}[pagerduty]\nuser_email = "a@b.co"\napi_key = "${dir}/absent"\n`);
  assert.match(
    keyFile.message,
    /config\.toml:5: pagerduty\.api_key: Error reading API key file .*\/absent: file not found$/,
  );
});

Deno.test("log severity and output follow upstream aliases", async () => {
  const severities: [string, string][] = [
    ["INFO", "info"],
    ["err", "error"],
    ["Error", "error"],
    ["debug", "debug"],
    ["WARN", "warn"],
    ["warning", "warn"],
    ["trace", "trace"],
  ];
  for (const [given, want] of severities) {
    assert.equal(
      (await load(`${CREDS}${PD}[log]\nseverity = "${given}"\n`)).config.log.severity,
      want,
      given,
    );
  }
  const bad = await loadError(`${CREDS}${PD}[log]\nseverity = "loud"\n`);
  assert.match(bad.message, /log\.severity: unsupported logger severity: 'loud'/);

  const outputs: [string, string][] = [
    ["stderr", "stderr"],
    ["error", "stderr"],
    ["2", "stderr"],
    ["", "stdout"],
    ["stdout", "stdout"],
    ["out", "stdout"],
    ["1", "stdout"],
    ["/var/log/x.log", "/var/log/x.log"],
  ];
  for (const [given, want] of outputs) {
    assert.equal((await load(`${CREDS}${PD}[log]\noutput = "${given}"\n`)).config.log.output, want, given);
  }
  const format = await loadError(`${CREDS}${PD}[log]\nformat = "xml"\n`);
  assert.match(format.message, /log\.format: unsupported log format: 'xml'/);
});

Deno.test("wrong value types are reported per key, all at once", async () => {
  const err = await loadError(
    `[teleport]\nidentity = 5\nrefresh_identity = "yes"\n[pagerduty]\napi_key = 42\nuser_email = "a@b.co"\n[log]\noutput = 3\n`,
  );
  assert.match(err.message, /teleport\.identity: must be a string, got number 5/);
  assert.match(err.message, /teleport\.refresh_identity: must be true or false, got "yes"/);
  assert.match(err.message, /pagerduty\.api_key: must be a string(;|$)/);
  assert.match(err.message, /log\.output: must be a string, got number 3/);
  assert.equal(err.problems.length, 4);
  const table = await loadError(`pagerduty = "x"\n${CREDS}`);
  assert.match(table.message, /pagerduty: must be a table, got "x"/);
});

Deno.test("a missing file is a ConfigError naming the file", async () => {
  const err = await loadConfig("/nonexistent/teleport-pagerduty.toml").then(() => undefined, (e) => e);
  assert.ok(err instanceof ConfigError);
  assert.equal(
    err.message,
    "/nonexistent/teleport-pagerduty.toml: cannot read configuration: file not found",
  );
});

Deno.test("the API key never appears in errors", async () => {
  await loadError(`${CREDS}[pagerduty]\napi_key = "${SECRET}"\nuser_email = "nope"\n`);
  await loadError(`${CREDS}[pagerduty]\napi_key = "${SECRET}" x\nuser_email = "a@b.co"\n`);
  await loadError(`[teleport]\n[pagerduty]\napi_key = "${SECRET}"\nuser_email = "a@b.co"\n`);
});
