/**
 * The rules cache (upstream access_monitoring_rules_test.go): a PUT for another
 * plugin is not cached, a PUT that stops applying evicts, DELETE evicts, events
 * that are not rule events are left to the caller; plus the listing/watch race.
 */
import assert from "node:assert/strict";
import { RulesCache } from "../../src/rules/cache.ts";
import { AccessMonitoringRules } from "../../src/rules/access_monitoring_rules.ts";
import type { WatchEvent } from "../../src/core/types.ts";
import { request, rule } from "./helpers.ts";

const names = (cache: RulesCache) => cache.rules().map((cached) => cached.rule.name);

Deno.test("a rule applies only with this plugin's notification name and the access_request subject", () => {
  const cache = new RulesCache("pagerduty");
  assert.equal(cache.applies(rule("a", "true", ["S"])), true);
  assert.equal(cache.applies(rule("b", "true", ["S"], {}, "opsgenie")), false);
  assert.equal(cache.applies(rule("c", "true", ["S"], { subjects: ["access_list"] })), false);
  assert.equal(cache.applies(rule("d", "true", ["S"], { notification: undefined })), false);
});

Deno.test("PUT: another plugin's rule is not cached; a rule that stops applying is evicted", () => {
  const cache = new RulesCache("pagerduty");
  cache.put(rule("other", "true", ["S"], {}, "slack"));
  assert.deepEqual(names(cache), []);
  cache.put(rule("mine", "true", ["S"]));
  assert.deepEqual(names(cache), ["mine"]);
  cache.put(rule("mine", "true", ["S"], {}, "opsgenie"));
  assert.deepEqual(names(cache), []);
});

Deno.test("PUT replaces a cached rule; DELETE evicts it; deleting an unknown rule is harmless", () => {
  const cache = new RulesCache("pagerduty");
  cache.put(rule("r", "true", ["One"]));
  cache.put(rule("r", "false", ["Two"]));
  assert.deepEqual(cache.get("r")?.rule.notification?.recipients, ["Two"]);
  assert.equal(cache.get("r")?.condition?.text, "false");
  cache.delete("r");
  cache.delete("never-existed");
  assert.equal(cache.size, 0);
});

Deno.test("a rule whose condition does not parse is cached with the reason (and skipped later)", () => {
  const cache = new RulesCache("pagerduty");
  cache.put(rule("broken", "access_request.spec.nope", ["S"]));
  assert.match(cache.get("broken")?.parseError ?? "", /unknown identifier/);
  assert.equal(cache.get("broken")?.condition, undefined);
});

Deno.test("reset replaces the content with the rules that apply", () => {
  const cache = new RulesCache("pagerduty");
  cache.put(rule("stale", "true", ["S"]));
  cache.reset([rule("b", "true", ["S"]), rule("a", "true", ["S"]), rule("x", "true", ["S"], {}, "slack")]);
  assert.deepEqual(names(cache), ["a", "b"]);
});

Deno.test("events during a listing are replayed over it, so a stale listing cannot undo them", () => {
  const cache = new RulesCache("pagerduty");
  const token = cache.beginListing();
  cache.put(rule("created", "true", ["New"]));
  cache.put(rule("updated", "true", ["v2"]));
  cache.delete("deleted");
  // The listing was taken before those events.
  assert.equal(
    cache.finishListing(token, [rule("updated", "true", ["v1"]), rule("deleted", "true", ["S"])]),
    true,
  );
  assert.deepEqual(names(cache), ["created", "updated"]);
  assert.deepEqual(cache.get("updated")?.rule.notification?.recipients, ["v2"]);
  // Once applied, later events are no longer recorded for replay.
  const next = cache.beginListing();
  assert.equal(cache.finishListing(next, []), true);
  assert.deepEqual(names(cache), []);
});

Deno.test("a listing superseded by a newer one is dropped", () => {
  const cache = new RulesCache("pagerduty");
  const first = cache.beginListing();
  const second = cache.beginListing();
  assert.equal(cache.finishListing(second, [rule("new", "true", ["S"])]), true);
  assert.equal(cache.finishListing(first, [rule("old", "true", ["S"])]), false);
  assert.deepEqual(names(cache), ["new"]);
});

Deno.test("handleEvent applies rule PUT/DELETE and leaves every other event to the caller", async () => {
  const rules = new AccessMonitoringRules({
    pluginName: "pagerduty",
    source: {
      listAccessMonitoringRules: () => Promise.resolve([]),
      getUserTraits: () => Promise.resolve({}),
    },
  });
  const put: WatchEvent = { type: "rule", kind: "access_monitoring_rule", rule: rule("r", "true", ["S"]) };
  assert.equal(rules.handleEvent(put), true);
  assert.deepEqual(await rules.recipientsFor(request()), ["S"]);
  const others: WatchEvent[] = [
    { type: "init", confirmedKinds: ["access_request"] },
    { type: "lost", reason: "x" },
    { type: "put", request: request() },
    { type: "delete", kind: "access_request", id: "r" },
  ];
  for (const event of others) assert.equal(rules.handleEvent(event), false, event.type);
  assert.equal(rules.cache.size, 1, "a request DELETE named like a rule does not evict it");
  assert.equal(rules.handleEvent({ type: "delete", kind: "access_monitoring_rule", id: "r" }), true);
  assert.equal(await rules.recipientsFor(request()), undefined);
});
