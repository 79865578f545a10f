/**
 * Routing by rules (upstream TestRecipientsFromAccessMonitoringRule and the trait
 * rules of access_monitoring_rules_test.go), plus: union and de-duplication, one
 * broken rule among good ones (one warning, others unaffected), schedules at the
 * boundary minute, and missing permissions as one warning with the fix and a
 * readiness problem.
 */
import assert from "node:assert/strict";
import {
  AccessMonitoringRules,
  type RulesLog,
  type RulesSource,
  TRAITS_PERMISSION_WARNING,
} from "../../src/rules/access_monitoring_rules.ts";
import {
  AccessDeniedError,
  ConnectionProblemError,
  NotFoundError,
  NotImplementedError,
} from "../../src/teleport/errors.ts";
import type { AccessMonitoringRule } from "../../src/core/types.ts";
import { request, rule } from "./helpers.ts";

class RecordingLog implements RulesLog {
  readonly warnings: string[] = [];
  warn(message: string): void {
    this.warnings.push(message);
  }
  info(): void {}
  debug(): void {}
}

class FakeSource implements RulesSource {
  rules: AccessMonitoringRule[] = [];
  traits: Record<string, Record<string, string[]>> = {};
  listError: Error | undefined;
  traitsError: Error | undefined;
  readonly traitCalls: string[] = [];
  listCalls = 0;

  listAccessMonitoringRules(name: string): Promise<AccessMonitoringRule[]> {
    this.listCalls++;
    if (this.listError) return Promise.reject(this.listError);
    return Promise.resolve(this.rules.filter((r) => r.notification?.name === name));
  }

  getUserTraits(user: string): Promise<Record<string, string[]>> {
    this.traitCalls.push(user);
    if (this.traitsError) return Promise.reject(this.traitsError);
    const traits = this.traits[user];
    return traits
      ? Promise.resolve(traits)
      : Promise.reject(new NotFoundError(`user "${user}" is not found`));
  }
}

async function setup(rules: AccessMonitoringRule[], plugin = "pagerduty") {
  const source = new FakeSource();
  source.rules = rules;
  const log = new RecordingLog();
  const amr = new AccessMonitoringRules({ pluginName: plugin, source, log, retry: { baseMs: 1, capMs: 5 } });
  await amr.onInit(["access_request", "access_monitoring_rule"]);
  return { amr, source, log };
}

Deno.test("TestRecipientsFromAccessMonitoringRule: a matching rule's recipients route the request", async () => {
  const { amr } = await setup([
    rule("test-pagerduty-amr", "!is_empty(access_request.spec.roles)", ["Teleport Notifications Two"]),
  ]);
  assert.deepEqual(await amr.recipientsFor(request()), ["Teleport Notifications Two"]);
});

Deno.test("no rule, or no matching rule: undefined, so the request's annotation decides", async () => {
  const empty = await setup([]);
  assert.equal(await empty.amr.recipientsFor(request()), undefined);
  const { amr } = await setup([rule("r", 'access_request.spec.roles.contains("db-admin")', ["DB"])]);
  assert.equal(await amr.recipientsFor(request({ roles: ["editor"] })), undefined);
});

Deno.test("a matching rule without recipients routes nowhere: the annotation decides", async () => {
  const { amr } = await setup([rule("silent", "true", [])]);
  assert.equal(await amr.recipientsFor(request()), undefined);
});

Deno.test("recipients of every matching rule are united without duplicates, in rule-name order", async () => {
  const { amr } = await setup([
    rule("b-db", 'access_request.spec.roles.contains("db-admin")', ["DB On-Call", "Shared"]),
    rule("a-all", "true", ["Shared", "Catch-all"]),
    rule("c-never", "false", ["Nobody"]),
  ]);
  assert.deepEqual(await amr.recipientsFor(request({ roles: ["db-admin"] })), [
    "Shared",
    "Catch-all",
    "DB On-Call",
  ]);
});

Deno.test("trait rule: matches a user with team example, not a user without traits", async () => {
  const { amr, source } = await setup([rule("team", 'user.traits["team"].contains("example")', ["Team"])]);
  source.traits = { "alice@example.com": { team: ["example"] }, "bob@example.com": {} };
  assert.deepEqual(await amr.recipientsFor(request({ user: "alice@example.com" })), ["Team"]);
  assert.equal(await amr.recipientsFor(request({ user: "bob@example.com" })), undefined);
  assert.equal(await amr.recipientsFor(request({ user: "gone@example.com" })), undefined, "user not found");
});

Deno.test("traits are read only when a usable rule reads them", async () => {
  const { amr, source } = await setup([rule("roles", "!is_empty(access_request.spec.roles)", ["S"])]);
  await amr.recipientsFor(request());
  assert.deepEqual(source.traitCalls, []);
});

Deno.test("without permission to read users: one warning with the fix, traits empty, a readiness problem", async () => {
  const { amr, source, log } = await setup([
    rule("team", 'user.traits["team"].contains("example")', ["Team"]),
    rule("no-team", 'is_empty(user.traits["team"])', ["Fallback"]),
  ]);
  source.traitsError = new AccessDeniedError('access denied to perform action "read" on "user"');
  assert.deepEqual(await amr.recipientsFor(request()), ["Fallback"]);
  assert.deepEqual(await amr.recipientsFor(request()), ["Fallback"]);
  const warnings = log.warnings.filter((w) => w.includes(TRAITS_PERMISSION_WARNING));
  assert.equal(warnings.length, 1, log.warnings.join("\n"));
  assert.match(amr.problems().join("\n"), /access-plugin/);
  source.traitsError = undefined;
  source.traits = { "alice@example.com": { team: ["example"] } };
  assert.deepEqual(await amr.recipientsFor(request()), ["Team"]);
  assert.deepEqual(amr.problems(), [], "the problem clears once users can be read");
});

Deno.test("any other failure to read traits is an error for the caller to retry, not a silent fallback", async () => {
  const { amr, source } = await setup([rule("team", 'user.traits["team"].contains("x")', ["Team"])]);
  source.traitsError = new ConnectionProblemError("connection refused");
  await assert.rejects(amr.recipientsFor(request()), ConnectionProblemError);
});

Deno.test("one broken rule among good ones: skipped with one warning naming it, the others still route", async () => {
  const { amr, log } = await setup([
    rule("a-good", "true", ["A"]),
    rule("b-unparsable", "access_request.spec.roles.is_empty()", ["Never"]),
    rule("c-fails", 'time.RFC3339("soon").after(access_request.spec.creation_time)', ["Never"]),
    rule("d-bad-zone", "true", ["Never"], {
      schedules: {
        s: { timezone: "Nowhere/City", shifts: [{ weekday: "Friday", start: "00:00", end: "23:00" }] },
      },
    }),
    rule("e-good", 'access_request.spec.roles.contains("editor")', ["E"]),
  ]);
  for (let i = 0; i < 3; i++) assert.deepEqual(await amr.recipientsFor(request()), ["A", "E"]);
  assert.equal(log.warnings.length, 3, log.warnings.join("\n"));
  const expected = [
    /"b-unparsable" is skipped: its condition does not parse: unsupported function: is_empty/,
    /"c-fails" is skipped: its condition cannot be evaluated: .*cannot parse "soon"/,
    /"d-bad-zone" is skipped: its schedule is invalid: unknown time zone/,
  ];
  for (const pattern of expected) assert.ok(log.warnings.some((w) => pattern.test(w)), String(pattern));
});

Deno.test("a fixed broken rule warns again if it breaks again differently", async () => {
  const { amr, log } = await setup([rule("r", "nope", ["S"])]);
  await amr.recipientsFor(request());
  amr.handleEvent({ type: "rule", kind: "access_monitoring_rule", rule: rule("r", "true", ["S"]) });
  assert.deepEqual(await amr.recipientsFor(request()), ["S"]);
  amr.handleEvent({ type: "rule", kind: "access_monitoring_rule", rule: rule("r", "nope2", ["S"]) });
  await amr.recipientsFor(request());
  assert.equal(log.warnings.length, 2);
});

Deno.test("schedule: a request created at the end minute is routed, a second later it is not", async () => {
  const { amr } = await setup([
    rule("night", "true", ["Night Shift"], {
      schedules: {
        oncall: { timezone: "Europe/Berlin", shifts: [{ weekday: "Friday", start: "00:00", end: "09:00" }] },
      },
    }),
  ]);
  // 2025-06-06 is a Friday; Berlin is UTC+2 in June, so 09:00 there is 07:00Z.
  assert.deepEqual(await amr.recipientsFor(request({ created: new Date("2025-06-06T07:00:00Z") })), [
    "Night Shift",
  ]);
  assert.equal(await amr.recipientsFor(request({ created: new Date("2025-06-06T07:00:01Z") })), undefined);
  assert.deepEqual(await amr.recipientsFor(request({ created: new Date("2025-06-05T22:00:00Z") })), [
    "Night Shift",
  ]);
  assert.equal(await amr.recipientsFor(request({ created: new Date("2025-06-05T21:59:59Z") })), undefined);
});

Deno.test("kind not confirmed by the watch: rules ignored, one warning with the fix, a readiness problem", async () => {
  const { amr, source, log } = await setup([rule("r", "true", ["S"])]);
  assert.equal(amr.cache.size, 1);
  const listed = source.listCalls;
  await amr.onInit(["access_request"]);
  await amr.onInit(["access_request"]);
  assert.equal(source.listCalls, listed, "no listing without the kind");
  assert.equal(amr.cache.size, 0);
  assert.equal(await amr.recipientsFor(request()), undefined);
  assert.equal(log.warnings.length, 1);
  assert.match(amr.problems()[0], /access_monitoring_rule: \[read, list\]/);
  await amr.onInit(["access_request", "access_monitoring_rule"]);
  assert.deepEqual(amr.problems(), []);
  assert.equal(amr.cache.size, 1);
});

Deno.test("list denied: rules ignored, a warning with the fix and a readiness problem", async () => {
  const source = new FakeSource();
  source.rules = [rule("r", "true", ["S"])];
  source.listError = new AccessDeniedError(
    'access denied to perform action "list" on "access_monitoring_rule"',
  );
  const log = new RecordingLog();
  const amr = new AccessMonitoringRules({ pluginName: "pagerduty", source, log });
  await amr.onInit(["access_request", "access_monitoring_rule"]);
  assert.equal(source.listCalls, 1, "a permission error is not retried");
  assert.equal(await amr.recipientsFor(request()), undefined);
  assert.match(log.warnings.join("\n"), /Cannot list access monitoring rules .*access-plugin/);
  assert.equal(amr.problems().length, 1);
});

Deno.test("a server without the rules service: no retry, rules ignored, a readiness problem", async () => {
  const source = new FakeSource();
  source.listError = new NotImplementedError("unknown service teleport.accessmonitoringrules.v1");
  const log = new RecordingLog();
  const amr = new AccessMonitoringRules({ pluginName: "pagerduty", source, log });
  await amr.onInit(["access_request", "access_monitoring_rule"]);
  assert.equal(source.listCalls, 1);
  assert.match(amr.problems().join("\n"), /unknown service/);
  assert.equal(log.warnings.length, 1);
});

Deno.test("a listing that fails for another reason is retried until it succeeds", async () => {
  const source = new FakeSource();
  source.rules = [rule("r", "true", ["S"])];
  source.listError = new ConnectionProblemError("unavailable");
  const log = new RecordingLog();
  const amr = new AccessMonitoringRules({
    pluginName: "pagerduty",
    source,
    log,
    retry: { baseMs: 1, capMs: 2 },
  });
  const original = source.listAccessMonitoringRules.bind(source);
  source.listAccessMonitoringRules = (name) => {
    if (source.listCalls === 2) source.listError = undefined;
    return original(name);
  };
  await amr.onInit(["access_request", "access_monitoring_rule"]);
  assert.equal(source.listCalls, 3);
  assert.deepEqual(await amr.recipientsFor(request()), ["S"]);
  assert.deepEqual(amr.problems(), []);
});

Deno.test("re-listing at every INIT picks up rules changed while disconnected", async () => {
  const { amr, source } = await setup([rule("old", "true", ["Old"])]);
  source.rules = [rule("new", "true", ["New"])];
  await amr.onInit(["access_request", "access_monitoring_rule"]);
  assert.deepEqual(await amr.recipientsFor(request()), ["New"]);
});
