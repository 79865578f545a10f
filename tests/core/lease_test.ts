import assert from "node:assert/strict";
import { formatLease, leaseWait, parseLease } from "../../src/core/lease.ts";

Deno.test("a lease round-trips, even when the owner name has an @", () => {
  const lease = { owner: "plugin@host-1", until: 1_700_000_000_000 };
  assert.deepEqual(parseLease(formatLease(lease)), lease);
  assert.equal(parseLease(""), null);
  assert.equal(parseLease("garbage"), null);
});

Deno.test("only a peer's unexpired lease makes us wait", () => {
  const lease = formatLease({ owner: "peer", until: 10_000 });
  assert.equal(leaseWait(lease, "me", 4_000), 6_000);
  assert.equal(leaseWait(lease, "me", 10_000), 0);
  assert.equal(leaseWait(lease, "peer", 4_000), 0);
  assert.equal(leaseWait("", "me", 4_000), 0);
});
