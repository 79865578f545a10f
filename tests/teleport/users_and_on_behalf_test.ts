/**
 * The client's side of reviews from PagerDuty: UsersService GetUser/ListUsers, and
 * reviews on behalf of a user (AccessReview.SubmittedBy = 11) against the double's
 * server rules.
 */
import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { AccessReviewSchema } from "../../src/teleport/gen/teleport/legacy/types/types_pb.ts";
import { AccessDeniedError, NotFoundError } from "../../src/teleport/errors.ts";
import { PLUGIN_USER, startHarness } from "./harness.ts";

Deno.test("SubmittedBy is field 11 (tag 0x5a) and absent when empty", () => {
  const withField = toBinary(AccessReviewSchema, create(AccessReviewSchema, { SubmittedBy: "plugin" }));
  assert.deepEqual([...withField], [0x5a, 6, ...new TextEncoder().encode("plugin")]);
  assert.equal(toBinary(AccessReviewSchema, create(AccessReviewSchema)).length, 0);
});

Deno.test("users: GetUser by name (null when missing) and ListUsers across pages", async () => {
  await using h = await startHarness();
  for (let i = 0; i < 3; i++) {
    h.double.addUser(`user${i}@example.com`, { traits: { pagerduty_user_id: [`P${i}`] } });
  }
  h.double.addUser("alice", { roles: ["access"], traits: { logins: ["alice", "root"] } });
  h.double.maxUsersPage = 3;
  const client = h.client();
  assert.deepEqual(await client.getUser("alice"), {
    name: "alice",
    roles: ["access"],
    traits: { logins: ["alice", "root"] },
  });
  assert.equal(await client.getUser("nobody"), null);
  const users = await client.listUsers();
  assert.equal(h.double.calls.ListUsers, 2);
  assert.deepEqual(users.map((u) => u.name), [
    "alice",
    "user0@example.com",
    "user1@example.com",
    "user2@example.com",
  ]);
  assert.deepEqual(users[2].traits, { pagerduty_user_id: ["P1"] });
});

Deno.test("a review on behalf of a user is checked as that user, and needs submit_for_users", async () => {
  await using h = await startHarness();
  h.double.addUser("alice");
  h.double.setReviewer("alice", ["editor"]);
  const client = h.client();
  const id = h.double.createRequest({ user: "bob", roles: ["editor"] });
  const review = { author: "alice", proposedState: "APPROVED" as const, reason: "ok" };
  await assert.rejects(client.submitReviewFor(id, review), (error) => {
    assert.ok(error instanceof AccessDeniedError);
    assert.equal(error.message, `user "${PLUGIN_USER}" cannot submit reviews on behalf of "alice"`);
    return true;
  });
  h.double.setSubmitForUsers(PLUGIN_USER, ["alice"]);
  await assert.rejects(client.submitReviewFor(id, { ...review, author: "carol" }), AccessDeniedError);
  const updated = await client.submitReviewFor(id, review);
  assert.equal(updated.state, "APPROVED");
  assert.deepEqual(updated.reviews.map((r) => r.author), ["alice"]);
  assert.deepEqual(h.double.reviewLog().map((r) => [r.author, r.submittedBy]), [["alice", PLUGIN_USER]]);
  // The probe the startup check sends: unknown request and author → NOT_FOUND, nothing recorded.
  h.double.setSubmitForUsers(PLUGIN_USER, ["*"]);
  await assert.rejects(
    client.submitReviewFor(crypto.randomUUID(), { ...review, author: "ghost" }),
    NotFoundError,
  );
  assert.equal(h.double.reviewLog().length, 1);
});
