/**
 * Auto-approval as a property: over 1,000 random worlds (seeded; the seed and case are
 * printed on failure; replay with AUTO_APPROVAL_SEED=N), the real decision path —
 * annotations → PagerDutyBackend.recipientsOf, then findOnCall (email rule included) over real
 * HTTP against the PagerDuty double — approves exactly when the requester's email
 * matches, case-insensitively, a PagerDuty user on call now in the escalation policy
 * of a listed service. The expectation is computed from the generated world alone.
 *
 * One double serves every case; each case lives under its own name prefix ("k<n>-"),
 * which no other case's names contain, and the client caches nothing (TTL 0).
 */
import assert from "node:assert/strict";
import { PagerDutyBackend } from "../../src/backends/pagerduty/backend.ts";
import { PagerDutyClient } from "../../src/backends/pagerduty/client.ts";
import type { AccessRequest } from "../../src/core/types.ts";
import { PagerDutyDouble } from "../../src/doubles/pagerduty_double.ts";
import { prng } from "../fakes/prng.ts";

const CASES = 1_000;
const ANNOTATION = "pagerduty_services";

interface GenUser {
  id: string;
  email: string;
}

interface GenService {
  name: string;
  policy: string;
  exists: boolean;
}

interface Case {
  index: number;
  requester: string;
  /** The requester is an email address by construction (not by the code under test). */
  requesterIsEmail: boolean;
  annotation: string[] | undefined;
  services: GenService[];
  users: GenUser[];
  onCall: { userId: string; policy: string; level: number }[];
  expected: { approve: boolean; services: string[] };
}

function randomCase(index: number, rnd: () => number, pd: PagerDutyDouble): Case {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const prefix = `k${index}-`;
  const caseVariant = (s: string) =>
    pick([
      () => s,
      () => s.toUpperCase(),
      () => s.toLowerCase(),
      () => [...s].map((c) => (chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join(""),
    ])();

  // Escalation policies (some shared by several services) and services, some listed but missing.
  const policies = Array.from({ length: 1 + Math.floor(rnd() * 3) }, (_, i) => `EP-${prefix}${i}`);
  const services: GenService[] = Array.from({ length: 1 + Math.floor(rnd() * 4) }, (_, i) => ({
    name: `${prefix}Service ${i}`,
    policy: pick(policies),
    exists: chance(0.85),
  }));
  for (const s of services) if (s.exists) pd.addService({ name: s.name, escalationPolicyId: s.policy });
  // An unlisted service in a policy of its own: decoy on-call entries live there.
  const decoyPolicy = `EP-${prefix}decoy`;
  pd.addService({ name: `${prefix}Unlisted`, escalationPolicyId: decoyPolicy });

  // PagerDuty users; emails stored in a random case.
  const users: GenUser[] = Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => {
    const email = caseVariant(`${prefix}user${i}@example.com`);
    return { id: pd.addUser({ name: `${prefix}User ${i}`, email }).id, email };
  });
  const onCall: Case["onCall"] = [];
  for (const user of users) {
    const entries = Math.floor(rnd() * 3);
    for (let e = 0; e < entries; e++) {
      const policy = chance(0.75) ? pick(policies) : decoyPolicy;
      const level = 1 + Math.floor(rnd() * 3);
      pd.addOnCall({ userId: user.id, escalationPolicyId: policy, level });
      onCall.push({ userId: user.id, policy, level });
    }
  }

  // The requester: a PD user's email in another case, an unknown email, or not an email at all.
  let requester: string;
  let requesterIsEmail = true;
  const kind = rnd();
  if (kind < 0.55 && users.length > 0) requester = caseVariant(pick(users).email);
  else if (kind < 0.7) requester = `${prefix}stranger@example.com`;
  else if (kind < 0.75) requester = `${prefix}user0@other.example.com`;
  else {
    requesterIsEmail = false;
    const local = users.length > 0 ? pick(users).email : `${prefix}user0@example.com`;
    requester = pick([
      `${prefix}alice`,
      `${prefix}user0`,
      `Alice <${local}>`,
      `"${local}"`,
      `${local} `,
      ` ${local}`,
      `${local.replace("@", " @")}`,
      `${local}@example.com`,
      `${prefix}user0@`,
      `@example.com`,
      `${prefix}a b@example.com`,
    ]);
  }

  // The annotation: missing, empty, or a list of names (listed services, unknown names,
  // the unlisted service never), with duplicates and blanks.
  let annotation: string[] | undefined;
  const a = rnd();
  if (a < 0.05) annotation = undefined;
  else if (a < 0.1) annotation = chance(0.5) ? [] : ["", "  "];
  else {
    annotation = services.filter(() => chance(0.7)).map((s) => s.name);
    if (chance(0.2)) annotation.push(`${prefix}No Such Service`);
    if (chance(0.2) && annotation.length > 0) annotation.push(annotation[0]);
    if (chance(0.1)) annotation.push("");
    annotation.sort(() => rnd() - 0.5);
  }

  // The oracle, from the generated world alone.
  const listed = new Set(annotation ?? []);
  const listedServices = services.filter((s) => s.exists && listed.has(s.name));
  const user = requesterIsEmail
    ? users.find((u) => u.email.toLowerCase() === requester.toLowerCase())
    : undefined;
  const userPolicies = new Set(onCall.filter((o) => o.userId === user?.id).map((o) => o.policy));
  const matched = listedServices.filter((s) => userPolicies.has(s.policy)).map((s) => s.name);
  return {
    index,
    requester,
    requesterIsEmail,
    annotation,
    services,
    users,
    onCall,
    expected: { approve: matched.length > 0, services: [...new Set(matched)].sort() },
  };
}

function requestOf(c: Case): AccessRequest {
  return {
    id: `req-${c.index}`,
    user: c.requester,
    roles: ["editor"],
    state: "PENDING",
    created: new Date(),
    requestReason: "",
    resolveReason: "",
    systemAnnotations: c.annotation === undefined ? {} : { [ANNOTATION]: c.annotation },
    reviews: [],
    suggestedReviewers: [],
  };
}

/** The plugin's decision: what the reconciler does before submitting an approval. */
async function decide(backend: PagerDutyBackend, request: AccessRequest) {
  const { approval } = backend.recipientsOf(request);
  if (approval.length === 0) return { approve: false, services: [] as string[] };
  const found = await backend.findOnCall(request, approval, AbortSignal.timeout(10_000));
  if (!found.onCall) return { approve: false, services: [] as string[] };
  // The review reason ends with the services the requester is on call in.
  const services = found.reason.slice(found.reason.indexOf("service(s) ") + "service(s) ".length).split(",");
  return { approve: true, services: [...new Set(services)].sort() };
}

Deno.test("auto-approval: approves exactly the on-call requesters of listed services (1,000 random worlds)", async () => {
  const seed = Number(Deno.env.get("AUTO_APPROVAL_SEED") ?? Date.now() % 1_000_000);
  const rnd = prng(seed);
  const pd = await PagerDutyDouble.start();
  const client = new PagerDutyClient(
    { apiKey: pd.apiKey, userEmail: "bot@example.com", apiEndpoint: pd.url, rateLimitPerMinute: 1_000_000 },
    { cacheTtlMs: 0, retry: { deadlineMs: 2_000, baseDelayMs: 5, maxDelayMs: 50 } },
  );
  const backend = new PagerDutyBackend(client, {
    notifyService: "pagerduty_notify_service",
    services: ANNOTATION,
  });
  const tally = { approved: 0, refused: 0, nonEmail: 0 };
  try {
    for (let index = 0; index < CASES; index++) {
      const c = randomCase(index, rnd, pd);
      const got = await decide(backend, requestOf(c));
      try {
        assert.equal(got.approve, c.expected.approve, got.approve ? "wrong approval" : "missed approval");
        assert.deepEqual(got.services, c.expected.services, "approved for the wrong services");
      } catch (error) {
        throw new Error(
          `seed ${seed} (replay: AUTO_APPROVAL_SEED=${seed}), case ${index}: ${(error as Error).message}\n` +
            JSON.stringify({ case: c, got }, null, 2),
          { cause: error },
        );
      }
      if (!c.requesterIsEmail) tally.nonEmail++;
      if (got.approve) tally.approved++;
      else tally.refused++;
    }
    assert.deepEqual(pd.violations, [], "PagerDuty contract violations");
    // The generator must actually produce both outcomes in quantity.
    assert.ok(
      tally.approved > 80 && tally.refused > 300 && tally.nonEmail > 100,
      `degenerate mix: ${JSON.stringify(tally)}`,
    );
  } catch (error) {
    console.error(`auto-approval property: seed ${seed}`);
    throw error;
  } finally {
    client.close();
    await pd.close();
  }
});
