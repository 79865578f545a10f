/**
 * Condition semantics, Teleport's: the documented variables, functions and methods,
 * the traps (contains_all with an empty set, isempty vs is_empty, missing map keys),
 * strict typing at parse time, and failures at evaluation time.
 */
import assert from "node:assert/strict";
import { Condition, type ConditionEnv, ConditionTypeError } from "../../src/rules/condition.ts";
import { ConditionSyntaxError } from "../../src/rules/syntax.ts";
import { ConditionEvalError } from "../../src/rules/values.ts";
import { request } from "./helpers.ts";

const ENV: ConditionEnv = {
  request: request({
    user: "alice@example.com",
    roles: ["db-admin", "editor"],
    suggestedReviewers: ["bob"],
    systemAnnotations: { pagerduty_notify_service: ["Primary"] },
    requestReason: "incident 42",
    created: new Date("2025-06-06T08:30:00Z"),
    expires: new Date("2025-06-06T20:30:00Z"),
  }),
  traits: { team: ["payments", "dev"], logins: ["root"] },
};

function holds(condition: string, env: ConditionEnv = ENV): boolean {
  return Condition.parse(condition).matches(env);
}

const TRUE_CONDITIONS = [
  "!is_empty(access_request.spec.roles)",
  'access_request.spec.roles.contains("db-admin")',
  'user.traits["team"].contains("payments")',
  'user.traits.team.contains("dev")',
  'access_request.spec.roles.contains("db-admin") && user.traits["team"].contains("payments")',
  'access_request.spec.suggested_reviewers.contains("bob")',
  'access_request.spec.system_annotations["pagerduty_notify_service"].contains("Primary")',
  'access_request.spec.user == "alice@example.com"',
  'access_request.spec.request_reason != "routine"',
  'contains_any(user.traits["team"], set("dev", "ops"))',
  'contains_all(access_request.spec.roles, set("editor", "db-admin"))',
  'access_request.spec.roles.contains_any(set("x", "editor"))',
  'access_request.spec.roles.contains_all(set("editor"))',
  'is_empty(user.traits["missing"])',
  'user.traits["missing"].isempty()',
  "true",
  "!false",
  "false || true",
  'access_request.spec.creation_time.after(time.RFC3339("2025-06-06T08:00:00Z"))',
  "access_request.spec.creation_time.before(access_request.spec.expiry)",
  'before(access_request.spec.creation_time, time.RFC3339("2025-06-07T00:00:00+02:00"))',
  'between(access_request.spec.creation_time, time.RFC3339("2025-06-07T00:00:00Z"), time.RFC3339("2025-06-06T00:00:00Z"))',
  'access_request.spec.creation_time.between(time.RFC3339("2025-06-06T08:29:59.5Z"), time.RFC3339("2025-06-06T08:30:01Z"))',
  'union(set("a"), user.traits["team"]).contains("payments")',
  'set("a").add("b", "c").contains("c")',
  'strings.upper(access_request.spec.user) == "ALICE@EXAMPLE.COM"',
  'strings.lower(set("A")).contains("a")',
  'strings.replaceall(access_request.spec.request_reason, "42", "43") == "incident 43"',
  'strings.split(set("a,b"), ",").contains("b")',
  'email.local(set(access_request.spec.user)).contains("alice")',
  'regexp.replace(user.traits["team"], "^pay(.*)$", "$1").contains("ments")',
  'regexp.replace(user.traits["team"], "^pay(.*)$", "${1}").contains("ments")',
  'ifelse(access_request.spec.roles.contains("editor"), "yes", "no") == "yes"',
  'choose(option(false, "a"), option(true, "b")) == "b"',
  'dict(pair("k", set("v"))).put("k2", set("w"))["k2"].contains("w")',
  'dict(pair("k", set("v"))).add_values("k", "x")["k"].contains("x")',
  'set("a", "b").remove("a").contains("b")',
  'access_request.spec.resource_labels_intersection["env"].isempty()',
  "is_empty(access_request.spec.resource_labels_union.env)",
];

Deno.test("documented variables, functions and methods evaluate as in Teleport", () => {
  for (const condition of TRUE_CONDITIONS) assert.equal(holds(condition), true, condition);
});

Deno.test("and the negative cases of the same conditions are false", () => {
  const falseConditions = [
    'access_request.spec.roles.contains("auditor")',
    'user.traits["team"].contains("sales")',
    'contains_any(user.traits["team"], set("sales"))',
    'contains_all(access_request.spec.roles, set("editor", "auditor"))',
    'set("a", "b").remove("a").contains("a")',
    'regexp.replace(set("other"), "^pay(.*)$", "$1").contains("other")',
    'between(access_request.spec.creation_time, time.RFC3339("2025-06-06T08:30:00Z"), time.RFC3339("2025-06-07T00:00:00Z"))',
  ];
  for (const condition of falseConditions) assert.equal(holds(condition), false, condition);
});

Deno.test("trap: contains_all with an empty second set is false, even against an empty first set", () => {
  assert.equal(holds("contains_all(access_request.spec.roles, set())"), false);
  assert.equal(holds('contains_all(user.traits["missing"], user.traits["missing"])'), false);
  assert.equal(holds("access_request.spec.roles.contains_all(set())"), false);
});

Deno.test("trap: the method is isempty() and the function is_empty(); s.is_empty() does not parse", () => {
  assert.equal(holds("access_request.spec.roles.isempty()"), false);
  assert.equal(holds("is_empty(access_request.spec.roles)"), false);
  assert.throws(() => Condition.parse("access_request.spec.roles.is_empty()"), ConditionTypeError);
  assert.throws(() => Condition.parse("isempty(access_request.spec.roles)"), ConditionTypeError);
});

Deno.test("trap: a missing map key is the empty set, not an error", () => {
  const env = { ...ENV, traits: {} };
  assert.equal(holds('user.traits["team"].contains("payments")', env), false);
  assert.equal(holds('is_empty(user.traits["team"])', env), true);
  assert.equal(holds("access_request.spec.system_annotations.nope.isempty()"), true);
});

Deno.test("a result that is not a boolean is false", () => {
  assert.equal(holds("access_request.spec.roles"), false);
  assert.equal(holds("access_request.spec.user"), false);
  assert.equal(holds('ifelse(true, "a", "b")'), false);
});

Deno.test("unknown names and type mix-ups fail the parse, as in Teleport's typed parser", () => {
  const bad: Array<[string, RegExp]> = [
    ["access_request.spec.rolez", /unknown identifier: "access_request.spec.rolez"/],
    ["resource.metadata.labels", /unknown identifier/],
    ['nope("x")', /unsupported function: nope/],
    ['access_request.spec.roles.frobnicate("x")', /unsupported function: frobnicate/],
    ["access_request.spec.roles && true", /lhs of \(&&\): expected bool, got set/],
    ["!access_request.spec.user", /operand of \(!\): expected bool, got string/],
    ['access_request.spec.roles == set("a")', /not supported for type: set/],
    ["true == true", /not supported for type: bool/],
    ["access_request.spec.user == 1", /rhs of \(==\): expected string, got int/],
    [
      'access_request.spec.user.contains("a")',
      /argument 1 to function \(contains\): expected set, got string/,
    ],
    ['contains_any(access_request.spec.roles, "editor")', /expected set, got string/],
    ['access_request.spec.roles.contains("a", "b")', /accepts 2 arguments, given 3/],
    ["is_empty()", /accepts 1 arguments, given 0/],
    ['access_request.spec.roles["x"]', /base of index expression: expected dict, got set/],
    ["user.traits[1]", /key of index expression: expected string, got int/],
  ];
  for (const [condition, message] of bad) {
    assert.throws(() => Condition.parse(condition), (error: unknown) => {
      assert.ok(error instanceof ConditionTypeError, `${condition}: ${error}`);
      assert.match(error.message, message, condition);
      return true;
    });
  }
  assert.throws(() => Condition.parse(""), ConditionSyntaxError);
});

Deno.test("failures that depend on the request surface at evaluation, not parse", () => {
  const failing: Array<[string, RegExp]> = [
    ['time.RFC3339("yesterday").before(access_request.spec.expiry)', /cannot parse "yesterday"/],
    ['choose(option(false, "a")) == "a"', /no option could be selected/],
    ['email.local(set("not-an-address")).isempty()', /failed to parse email address/],
    ['ifelse(true, "a", set("b")).contains("b")', /expected set, got string/],
  ];
  for (const [condition, message] of failing) {
    const parsed = Condition.parse(condition);
    assert.throws(() => parsed.matches(ENV), (error: unknown) => {
      assert.ok(error instanceof ConditionEvalError, `${condition}: ${error}`);
      assert.match(error.message, message, condition);
      return true;
    });
  }
});

Deno.test("resource labels: empty for a role request, not evaluable for a resource request", () => {
  const condition = Condition.parse(
    'access_request.spec.resource_labels_intersection["env"].contains("dev")',
  );
  assert.equal(condition.matches(ENV), false);
  const resourceRequest = { ...ENV, request: { ...ENV.request, requestedResourceIds: ["/c/node/web-1"] } };
  assert.throws(() => condition.matches(resourceRequest), ConditionEvalError);
});

Deno.test("&& and || short-circuit: the right side is not evaluated when the left decides", () => {
  const boom = 'time.RFC3339("bad").after(access_request.spec.expiry)';
  assert.equal(holds(`false && ${boom}`), false);
  assert.equal(holds(`true || ${boom}`), true);
  assert.throws(() => holds(`true && ${boom}`), ConditionEvalError);
});

Deno.test("an unset creation time or expiry reads as Go's zero time", () => {
  const env = { ...ENV, request: { ...ENV.request, created: undefined, expires: undefined } };
  assert.equal(
    holds('access_request.spec.creation_time.before(time.RFC3339("0001-01-01T00:00:01Z"))', env),
    true,
  );
});

Deno.test("the variables a condition reads are known after parsing (traits are fetched only when read)", () => {
  assert.deepEqual([...Condition.parse('user.traits["team"].contains("x") && true').variables].sort(), [
    "true",
    "user.traits",
  ]);
  assert.equal(Condition.parse("!is_empty(access_request.spec.roles)").variables.has("user.traits"), false);
});
