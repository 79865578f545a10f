/**
 * `check` against the doubles: a healthy setup is all ok, then each common mistake is
 * planted alone and must be reported as the right item with a fix.
 */
import assert from "node:assert/strict";
import { pagerDutyCheck } from "../../src/backends/pagerduty/check.ts";
import type { CheckItem } from "../../src/check/report.ts";
import { runChecks } from "../../src/check/run.ts";
import { ACCESS_PLUGIN_ROLE, type DoubleRole } from "../../src/doubles/teleport_roles.ts";
import { BOT_EMAIL, PLUGIN_USER, startWorld, type World } from "../../src/doubles/world.ts";

const SERVICE = "Teleport Access";

interface Setup extends AsyncDisposable {
  world: World;
  /** Writes the configuration file (with `edit` applied) and returns its path. */
  writeConfig(edit?: (toml: string) => string): Promise<string>;
  run(edit?: (toml: string) => string): Promise<CheckItem[]>;
}

/** A correct setup: private key files, a requester role naming an existing service, review rights. */
async function healthySetup(): Promise<Setup> {
  const world = await startWorld();
  const { teleport, pagerduty, credentials } = world;
  // Valid for a month: the world's one-day certificate would (rightly) be a warning.
  await teleport.writeCredentials(PLUGIN_USER, world.dir, { validForMs: 30 * 24 * 3600_000 });
  await Deno.chmod(credentials.clientKey, 0o600);
  await Deno.chmod(credentials.identity, 0o600);
  pagerduty.addUser({ name: "Access Bot", email: BOT_EMAIL });
  pagerduty.addService({ name: SERVICE });
  pagerduty.addService({ name: "Databases" });
  teleport.defineRole({
    name: "access-plugin",
    allow: { ...ACCESS_PLUGIN_ROLE.allow, reviewRoles: ["editor"] },
  });
  teleport.defineRole({
    name: "requester",
    allow: {
      requestAnnotations: { pagerduty_notify_service: [SERVICE], pagerduty_services: [SERVICE, "Databases"] },
    },
  });
  const path = `${world.dir}/teleport-pagerduty.toml`;
  const base = `[teleport]
addr = "${teleport.addr}"
client_key = "${credentials.clientKey}"
client_crt = "${credentials.clientCrt}"
root_cas = "${credentials.rootCas}"

[pagerduty]
api_key = "${pagerduty.apiKey}"
user_email = "${BOT_EMAIL}"
api_endpoint = "${pagerduty.url}"
`;
  const writeConfig = async (edit = (t: string) => t) => {
    await Deno.writeTextFile(path, edit(base), { mode: 0o600 });
    return path;
  };
  return {
    world,
    writeConfig,
    run: async (edit) => runChecks(await writeConfig(edit), pagerDutyCheck),
    [Symbol.asyncDispose]: () => world[Symbol.asyncDispose](),
  };
}

/** The healthy plugin role (with review rights) missing the rule for one resource. */
function pluginRoleWithout(resource: string): DoubleRole {
  return {
    name: "access-plugin",
    allow: {
      rules: ACCESS_PLUGIN_ROLE.allow!.rules!.filter((r) => !r.resources.includes(resource)),
      reviewRoles: ["editor"],
    },
  };
}

const problems = (items: CheckItem[]) => items.filter((item) => item.status !== "ok");

/** The single problem a planted mistake must cause. */
function onlyProblem(items: CheckItem[]): CheckItem {
  const found = problems(items);
  assert.equal(found.length, 1, `expected exactly one problem, got:\n${JSON.stringify(found, null, 2)}`);
  assert.ok(found[0].fix, "a problem comes with its fix");
  return found[0];
}

Deno.test("a healthy setup: every item ok", async () => {
  await using setup = await healthySetup();
  const items = await setup.run();
  assert.deepEqual(problems(items), []);
  const ids = items.map((item) => item.id);
  for (
    const id of [
      "config.file",
      "teleport.client_key",
      "teleport.certificate",
      "teleport.reachable",
      "teleport.version",
      "teleport.cluster",
      "teleport.permissions.access_request",
      "teleport.permissions.plugin_data",
      "teleport.permissions.access_monitoring_rule",
      "teleport.permissions.review_requests",
      "teleport.roles",
      "teleport.access_monitoring_rules",
      "pagerduty.api_key",
      "pagerduty.write_access",
      "pagerduty.user_email",
      "pagerduty.service",
    ]
  ) assert.ok(ids.includes(id), `missing item ${id}`);
  assert.equal(
    items.filter((item) => item.id === "pagerduty.service").length,
    2,
    "one item per named service",
  );
});

Deno.test("check changes nothing: no write reaches Teleport, PagerDuty creates nothing", async () => {
  await using setup = await healthySetup();
  await setup.run();
  const { teleport, pagerduty } = setup.world;
  assert.equal(teleport.calls.UpdatePluginData ?? 0, 0);
  assert.equal(teleport.calls.SubmitAccessReview ?? 0, 0);
  assert.deepEqual(pagerduty.incidents(), []);
  const writes = pagerduty.requests.filter((r) => r.method !== "GET");
  assert.deepEqual(writes.map((r) => [r.method, r.path, r.status]), [[
    "PUT",
    "/incidents/PTELEPORTCHECK0NOTREAL",
    404,
  ]]);
});

Deno.test("mistake: an invalid configuration file", async () => {
  await using setup = await healthySetup();
  const problem = onlyProblem(
    await setup.run((t) => t.replace(`user_email = "${BOT_EMAIL}"`, 'user_email = "bot"')),
  );
  assert.equal(problem.id, "config.file");
  assert.equal(problem.status, "error");
  assert.match(problem.message, /pagerduty\.user_email: must be an email address/);
});

Deno.test("mistake: the private key is readable by others", async () => {
  await using setup = await healthySetup();
  await Deno.chmod(setup.world.credentials.clientKey, 0o644);
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["teleport.client_key", "warning"]);
  assert.equal(problem.fix, `chmod 600 ${setup.world.credentials.clientKey}`);
});

Deno.test("mistake: the certificate expires within 3 days (warning) or has expired (error)", async () => {
  await using setup = await healthySetup();
  const { teleport, dir } = setup.world;
  const soon = await teleport.writeCredentials(PLUGIN_USER, `${dir}`, { validForMs: 3600_000 });
  await Deno.chmod(soon.clientKey, 0o600);
  let problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["teleport.certificate", "warning"]);
  assert.match(problem.message, /expires in 0 h|expires in 1 h/);

  const expired = await teleport.writeCredentials(PLUGIN_USER, `${dir}`, { expired: true });
  await Deno.chmod(expired.clientKey, 0o600);
  const items = await setup.run();
  problem = items.find((item) => item.id === "teleport.certificate")!;
  assert.equal(problem.status, "error");
  assert.match(problem.message, /expired/);
});

Deno.test("mistake: Teleport is not reachable at teleport.addr", async () => {
  await using setup = await healthySetup();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const unused = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const problem = onlyProblem(
    await setup.run((t) => t.replace(setup.world.teleport.addr, `127.0.0.1:${unused}`)),
  );
  assert.deepEqual([problem.id, problem.status], ["teleport.reachable", "error"]);
});

Deno.test("mistake: the plugin's role lacks the plugin-data rule", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.defineRole(pluginRoleWithout("access_plugin_data"));
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["teleport.permissions.plugin_data", "error"]);
  assert.match(problem.fix!, /\{resources: \[access_plugin_data\], verbs: \[update\]\}/);
});

Deno.test("mistake: a deny rule takes away reading access requests", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.defineRole({
    name: "no-read",
    deny: { rules: [{ resources: ["access_request"], verbs: ["read"], where: "" }] },
  });
  setup.world.teleport.assignRoles(PLUGIN_USER, ["access-plugin", "no-read"]);
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["teleport.permissions.access_request", "error"]);
  assert.match(problem.message, /denied by role no-read/);
});

Deno.test("mistake: the plugin's role cannot read Access Monitoring Rules", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.defineRole(pluginRoleWithout("access_monitoring_rule"));
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["teleport.permissions.access_monitoring_rule", "warning"]);
});

Deno.test("mistake: auto-approval on without review permission (dry run and off need none)", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.defineRole(ACCESS_PLUGIN_ROLE);
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["teleport.permissions.review_requests", "warning"]);
  for (const mode of ["dry-run", "off"]) {
    const items = await setup.run((t) =>
      t.replace("[pagerduty]\n", `[pagerduty]\nauto_approval = "${mode}"\n`)
    );
    assert.deepEqual(problems(items), [], mode);
  }
});

Deno.test("mistake: the plugin may not read roles, so annotations go unchecked", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.defineRole(pluginRoleWithout("role"));
  const found = problems(await setup.run());
  assert.deepEqual(found.map((p) => [p.id, p.status]), [
    ["teleport.permissions.role", "warning"],
    ["teleport.roles", "warning"],
  ]);
});

Deno.test("mistake: a wrong PagerDuty API key", async () => {
  await using setup = await healthySetup();
  const problem = onlyProblem(
    await setup.run((t) => t.replace(setup.world.pagerduty.apiKey, "wrong-key-0000000000")),
  );
  assert.deepEqual([problem.id, problem.status], ["pagerduty.api_key", "error"]);
  assert.ok(!problem.message.includes("wrong-key-0000000000"), "the key is not echoed");
});

Deno.test("mistake: a read-only PagerDuty API key", async () => {
  await using setup = await healthySetup();
  setup.world.pagerduty.keyAccess = "read-only";
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["pagerduty.write_access", "error"]);
  assert.match(problem.message, /read-only/);
});

Deno.test("mistake: user_email is not a PagerDuty user", async () => {
  await using setup = await healthySetup();
  const problem = onlyProblem(
    await setup.run((t) => t.replace(`user_email = "${BOT_EMAIL}"`, 'user_email = "nobody@example.com"')),
  );
  assert.deepEqual([problem.id, problem.status], ["pagerduty.user_email", "error"]);
});

Deno.test("mistake: a service name with a typo gets the nearest name suggested", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.defineRole({
    name: "requester",
    allow: { requestAnnotations: { pagerduty_notify_service: ["Teleport Acess"] } },
  });
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["pagerduty.service", "error"]);
  assert.match(
    problem.message,
    /no PagerDuty service is named "Teleport Acess" \(annotation pagerduty_notify_service in role requester\); did you mean "Teleport Access"\?/,
  );
});

Deno.test("mistake: an Access Monitoring Rule names a service that does not exist", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.upsertRule({
    name: "oncall-db",
    subjects: ["access_request"],
    condition: 'access_request.spec.roles.contains("db-admin")',
    notification: { name: "pagerduty", recipients: ["Databses"] },
    schedules: {},
  });
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["pagerduty.service", "error"]);
  assert.match(
    problem.message,
    /"Databses" \(Access Monitoring Rule oncall-db\); did you mean "Databases"\?/,
  );
});

Deno.test("a rule alone routes requests: no notify annotation needed", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.deleteRole("requester");
  setup.world.teleport.upsertRule({
    name: "all",
    subjects: ["access_request"],
    condition: "true",
    notification: { name: "pagerduty", recipients: [SERVICE] },
    schedules: {},
  });
  assert.deepEqual(problems(await setup.run()), []);
});

Deno.test("mistake: no role sets the notify-service annotation", async () => {
  await using setup = await healthySetup();
  setup.world.teleport.deleteRole("requester");
  const problem = onlyProblem(await setup.run());
  assert.deepEqual([problem.id, problem.status], ["pagerduty.services", "warning"]);
});

Deno.test("the CLI under the release permissions: text for people (exit 0 when healthy), JSON for automation (exit 1 on an error)", async () => {
  await using setup = await healthySetup();
  const main = new URL("../../src/main.ts", import.meta.url).pathname;
  const cli = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      // The release permissions (deno.json "permissions.plugin"), as the shipped program has.
      args: ["run", "-P=plugin", main, "check", ...args],
      cwd: new URL("../..", import.meta.url).pathname,
      env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const healthy = await cli(["--config", await setup.writeConfig()]);
  const text = new TextDecoder().decode(healthy.stdout);
  assert.equal(healthy.code, 0, text + new TextDecoder().decode(healthy.stderr));
  assert.match(text, /^ok {7}config\.file +\S/m);
  assert.match(text, /^0 error\(s\), 0 warning\(s\), \d+ ok$/m);

  setup.world.pagerduty.keyAccess = "read-only";
  const broken = await cli(["-c", await setup.writeConfig(), "--format", "json"]);
  assert.equal(broken.code, 1);
  const report = JSON.parse(new TextDecoder().decode(broken.stdout));
  assert.equal(report.status, "error");
  const item = report.items.find((i: CheckItem) => i.id === "pagerduty.write_access");
  assert.equal(item.status, "error");
  assert.ok(item.fix);
});
