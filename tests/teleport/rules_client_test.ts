/**
 * Access monitoring rules through the real client against the Teleport double:
 * ListAccessMonitoringRulesWithFilter paged to the end with upstream's filter and
 * validation, rule PUT/DELETE watch events, GetUser traits, RBAC denials, and the
 * rules component fed by a live watch (a rule created after start, rules changed
 * while disconnected, two instances agreeing).
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { type Harness, isInit, PLUGIN_USER, startHarness, takeUntil } from "./harness.ts";
import { DoubleRpcError } from "../../src/doubles/teleport_double.ts";
import { AccessDeniedError, NotFoundError } from "../../src/teleport/errors.ts";
import { AccessMonitoringRules, type RulesLog } from "../../src/rules/access_monitoring_rules.ts";
import type { TeleportClient } from "../../src/teleport/client.ts";
import type { AccessMonitoringRule, WatchEvent } from "../../src/core/types.ts";
import { request, rule } from "../rules/helpers.ts";

const KINDS = ["access_request", "access_monitoring_rule"];
const status = grpc.status;

function rejectsWith(run: () => unknown, code: grpc.status, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof DoubleRpcError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("list: filtered by subject and notification name, paged to the end in name order", async () => {
  await using h = await startHarness();
  h.double.rulesPageCap = 2;
  for (const name of ["e", "c", "a", "d", "b"]) h.double.upsertRule(rule(name, "true", [`S-${name}`]));
  h.double.upsertRule(rule("other-plugin", "true", ["X"], {}, "opsgenie"));
  h.double.upsertRule(rule("lists-only", "true", ["X"], { subjects: ["access_list"] }));
  const rules = await h.client().listAccessMonitoringRules("pagerduty");
  assert.deepEqual(rules.map((r) => r.name), ["a", "b", "c", "d", "e"]);
  assert.equal(h.double.calls.ListAccessMonitoringRulesWithFilter, 3);
});

Deno.test("list: a rule maps to the domain shape field for field, schedules included", async () => {
  await using h = await startHarness();
  const original: AccessMonitoringRule = rule("full", 'user.traits["team"].contains("x")', ["One", "Two"], {
    schedules: {
      oncall: { timezone: "Europe/Berlin", shifts: [{ weekday: "Friday", start: "00:00", end: "09:00" }] },
    },
  });
  h.double.upsertRule(original);
  assert.deepEqual(await h.client().listAccessMonitoringRules("pagerduty"), [original]);
});

Deno.test("the double validates rules as Teleport does", async () => {
  await using h = await startHarness();
  const d = h.double;
  const bad = status.INVALID_ARGUMENT;
  rejectsWith(() => d.upsertRule(rule("r", "", ["S"])), bad, /condition is missing/);
  rejectsWith(() => d.upsertRule(rule("r", "true", ["S"], { subjects: [] })), bad, /subject is missing/);
  rejectsWith(() => d.upsertRule(rule("r", "roles.contains(", ["S"])), bad, /condition is invalid/);
  rejectsWith(() => d.upsertRule(rule("r", "nope", ["S"])), bad, /condition is invalid: unknown identifier/);
  rejectsWith(
    () => d.upsertRule(rule("r", "true", ["S"], { notification: undefined })),
    bad,
    /one of notification or automatic_review must be configured/,
  );
  rejectsWith(
    () => d.upsertRule(rule("r", "true", ["S"], { notification: { name: "", recipients: [] } })),
    bad,
    /plugin name is missing/,
  );
  const shift = (weekday: string, start: string, end: string) => ({
    schedules: { s: { timezone: "", shifts: [{ weekday, start, end }] } },
  });
  rejectsWith(
    () => d.upsertRule(rule("r", "true", ["S"], shift("Funday", "01:00", "02:00"))),
    bad,
    /weekday/,
  );
  rejectsWith(
    () => d.upsertRule(rule("r", "true", ["S"], shift("Monday", "02:00", "02:00"))),
    bad,
    /before end/,
  );
  rejectsWith(
    () => d.upsertRule(rule("r", "true", ["S"], shift("Monday", "2:00", "03:00"))),
    bad,
    /invalid time/,
  );
  rejectsWith(() => d.upsertRule(rule("r", "true", ["S"]), { version: "v2" }), bad, /invalid version/);
  rejectsWith(
    () => d.upsertRule(rule("r", "true", ["S"]), { desiredState: "approved" }),
    bad,
    /desired_state/,
  );
  rejectsWith(
    () =>
      d.upsertRule(rule("r", "true", ["S"]), {
        automaticReview: { integration: "builtin", decision: "MAYBE" },
      }),
    bad,
    /decision/,
  );
  // Review-only rules are valid, and not for this plugin.
  d.upsertRule(rule("review-only", "true", [], { notification: undefined }), {
    desiredState: "reviewed",
    automaticReview: { integration: "builtin", decision: "APPROVED" },
  });
  assert.deepEqual(await h.client().listAccessMonitoringRules("pagerduty"), []);
});

Deno.test("watch: a rule PUT carries the rule, a rule DELETE carries its kind and name", async () => {
  await using h = await startHarness();
  const abort = new AbortController();
  const events = h.client().watch(KINDS, abort.signal)[Symbol.asyncIterator]();
  try {
    await takeUntil(events, isInit);
    const created = rule("r", "true", ["S"]);
    h.double.upsertRule(created);
    h.double.deleteRule("r");
    const [put, deleted] = await takeUntil(events, (event) => event.type === "delete");
    assert.deepEqual(put, { type: "rule", kind: "access_monitoring_rule", rule: created });
    assert.deepEqual(deleted, { type: "delete", kind: "access_monitoring_rule", id: "r" });
  } finally {
    abort.abort();
    await events.return?.();
  }
});

Deno.test("users: traits through GetUser; NOT_FOUND for unknown users; denied without `user: read`", async () => {
  await using h = await startHarness();
  h.double.setUser("alice", { team: ["payments"], logins: ["root", "ubuntu"] });
  const client = h.client();
  assert.deepEqual(await client.getUserTraits("alice"), { logins: ["root", "ubuntu"], team: ["payments"] });
  await assert.rejects(client.getUserTraits("nobody"), NotFoundError);
  h.double.denyAccess(PLUGIN_USER, "user");
  await assert.rejects(client.getUserTraits("alice"), AccessDeniedError);
});

Deno.test("list denied without `access_monitoring_rule: list`", async () => {
  await using h = await startHarness();
  h.double.denyAccess(PLUGIN_USER, "access_monitoring_rule");
  await assert.rejects(h.client().listAccessMonitoringRules("pagerduty"), AccessDeniedError);
});

// ---- the rules component fed by a live watch -----------------------------------------

class Warnings implements RulesLog {
  readonly lines: string[] = [];
  warn(message: string): void {
    this.lines.push(message);
  }
  info(): void {}
  debug(): void {}
}

interface Routing extends AsyncDisposable {
  rules: AccessMonitoringRules;
  warnings: Warnings;
  /** Resolves when the watch has delivered (and the rules applied) an event matching `until`. */
  next(until: (event: WatchEvent) => boolean): Promise<void>;
}

/** What the composition root does: onInit at every INIT (awaited here), handleEvent for the rest. */
function route(h: Harness, client: TeleportClient = h.client()): Routing {
  const warnings = new Warnings();
  const rules = new AccessMonitoringRules({ pluginName: "pagerduty", source: client, log: warnings });
  const abort = new AbortController();
  const waiters: Array<{ until: (event: WatchEvent) => boolean; resolve: () => void }> = [];
  const loop = (async () => {
    for await (const event of client.watch(KINDS, abort.signal)) {
      if (event.type === "init") await rules.onInit(event.confirmedKinds, abort.signal);
      else rules.handleEvent(event);
      for (const waiter of waiters.splice(0)) {
        if (waiter.until(event)) waiter.resolve();
        else waiters.push(waiter);
      }
    }
  })();
  return {
    rules,
    warnings,
    next: (until) => new Promise((resolve) => waiters.push({ until, resolve })),
    async [Symbol.asyncDispose]() {
      abort.abort();
      rules.close();
      await loop;
    },
  };
}

Deno.test("a rule created after start routes the next request (TestRecipientsFromAccessMonitoringRule)", async () => {
  await using h = await startHarness();
  await using r = route(h);
  await r.next(isInit);
  const annotated = request({ systemAnnotations: { pagerduty_notify_service: ["Teleport Notifications"] } });
  assert.equal(await r.rules.recipientsFor(annotated), undefined);
  const seen = r.next((event) => event.type === "rule");
  h.double.upsertRule(rule("test-pagerduty-amr", "!is_empty(access_request.spec.roles)", [
    "Teleport Notifications Two",
  ]));
  await seen;
  assert.deepEqual(await r.rules.recipientsFor(annotated), ["Teleport Notifications Two"]);
  const gone = r.next((event) => event.type === "delete");
  h.double.deleteRule("test-pagerduty-amr");
  await gone;
  assert.equal(await r.rules.recipientsFor(annotated), undefined);
});

Deno.test("rules changed while disconnected are picked up by the re-list after reconnecting", async () => {
  await using h = await startHarness();
  h.double.upsertRule(rule("stays", 'access_request.spec.roles.contains("db")', ["DB"]));
  h.double.upsertRule(rule("removed", "true", ["Old"]));
  await using r = route(h);
  await r.next(isInit);
  assert.deepEqual(await r.rules.recipientsFor(request()), ["Old"]);
  const lost = r.next((event) => event.type === "lost");
  await h.double.refuseConnections(true);
  await lost;
  h.double.deleteRule("removed");
  h.double.upsertRule(rule("added", 'access_request.spec.roles.contains("editor")', ["New"]));
  const reconnected = r.next(isInit);
  await h.double.refuseConnections(false);
  await reconnected;
  assert.deepEqual(await r.rules.recipientsFor(request({ roles: ["editor"] })), ["New"]);
  assert.deepEqual(await r.rules.recipientsFor(request({ roles: ["db"] })), ["DB"]);
});

Deno.test("a user's traits route through a trait rule; without `user: read` one warning and no traits", async () => {
  await using h = await startHarness();
  h.double.setUser("alice@example.com", { team: ["payments"] });
  h.double.upsertRule(rule("payments", 'user.traits["team"].contains("payments")', ["Payments On-Call"]));
  await using r = route(h);
  await r.next(isInit);
  assert.deepEqual(await r.rules.recipientsFor(request()), ["Payments On-Call"]);
  h.double.denyAccess(PLUGIN_USER, "user");
  assert.equal(await r.rules.recipientsFor(request()), undefined);
  assert.equal(await r.rules.recipientsFor(request()), undefined);
  assert.equal(r.warnings.lines.filter((line) => line.includes("user.traits")).length, 1);
  assert.equal(r.rules.problems().length, 1);
});

Deno.test("without permission on rules: the watch drops the kind, a warning and a readiness problem", async () => {
  await using h = await startHarness();
  h.double.upsertRule(rule("r", "true", ["S"]));
  h.double.denyAccess(PLUGIN_USER, "access_monitoring_rule");
  await using r = route(h);
  await r.next(isInit);
  assert.equal(await r.rules.recipientsFor(request()), undefined);
  assert.equal(h.double.calls.ListAccessMonitoringRulesWithFilter, undefined);
  assert.match(r.rules.problems().join("\n"), /access_monitoring_rule: \[read, list\]/);
  assert.equal(r.warnings.lines.length, 1);
});

Deno.test("two instances agree on the recipients of one request", async () => {
  await using h = await startHarness();
  h.double.upsertRule(rule("b", "true", ["Shared", "B"]));
  h.double.upsertRule(rule("a", 'access_request.spec.roles.contains("editor")', ["A", "Shared"]));
  await using one = route(h);
  await using two = route(h, h.client());
  await Promise.all([one.next(isInit), two.next(isInit)]);
  const req = request();
  const [first, second] = await Promise.all([one.rules.recipientsFor(req), two.rules.recipientsFor(req)]);
  assert.deepEqual(first, ["A", "Shared", "B"]);
  assert.deepEqual(second, first);
});
