/**
 * The texts written into PagerDuty match the Go plugin's wording (spec §5.10), in UTC,
 * and stay within PagerDuty's size limits without breaking characters.
 */
import assert from "node:assert/strict";
import {
  formatRfc822,
  incidentDetails,
  incidentTitle,
  MAX_DETAILS_BYTES,
  MAX_TITLE_CHARS,
  requestLink,
  resolutionNote,
  reviewNote,
  truncateChars,
  truncateUtf8,
} from "../../../src/backends/pagerduty/mod.ts";
import { clientFor, withDouble } from "./helpers.ts";

const CREATED = new Date("2021-06-01T13:27:17Z");
const bytes = (s: string) => new TextEncoder().encode(s).length;
/** True when `s` survives a UTF-8 round trip (no lone surrogate left by a bad cut). */
const wellFormed = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s)) === s;

Deno.test("RFC822 time is Go's `02 Jan 06 15:04 MST` in UTC", () => {
  assert.equal(formatRfc822(CREATED), "01 Jun 21 13:27 UTC");
  assert.equal(formatRfc822(new Date("2009-11-10T23:00:00+05:00")), "10 Nov 09 18:00 UTC");
  assert.equal(formatRfc822(undefined), "01 Jan 01 00:00 UTC", "Go's zero time when unknown");
});

Deno.test("incident title", () => {
  assert.equal(incidentTitle("alice@example.com"), "Access request from alice@example.com");
});

Deno.test("incident details: three newline-terminated lines", () => {
  const request = {
    user: "alice@example.com",
    roles: ["editor", "auditor"],
    created: CREATED,
    requestReason: "because of",
  };
  assert.equal(
    incidentDetails(request, "https://proxy.example.com/web/requests/r1"),
    "alice@example.com requested permissions for roles editor, auditor on Teleport at 01 Jun 21 13:27 UTC.\n" +
      "Reason: because of\n" +
      "To approve or deny the request, proceed to https://proxy.example.com/web/requests/r1\n",
  );
});

Deno.test("incident details leave empty lines when there is no reason and no link", () => {
  const request = { user: "bob", roles: ["editor"], created: CREATED, requestReason: "" };
  assert.equal(
    incidentDetails(request),
    "bob requested permissions for roles editor on Teleport at 01 Jun 21 13:27 UTC.\n\n\n",
  );
});

Deno.test("review note, with and without a reason", () => {
  const review = {
    author: "reviewer1@example.com",
    proposedState: "APPROVED" as const,
    reason: "okay",
    created: CREATED,
  };
  assert.equal(
    reviewNote(review),
    "reviewer1@example.com reviewed the request at 01 Jun 21 13:27 UTC.\nResolution: APPROVED.\nReason: okay.",
  );
  assert.equal(
    reviewNote({ ...review, proposedState: "DENIED", reason: "" }),
    "reviewer1@example.com reviewed the request at 01 Jun 21 13:27 UTC.\nResolution: DENIED.\n",
  );
});

Deno.test("resolution note, with and without a reason", () => {
  assert.equal(resolutionNote("approved", "okay"), "Access request has been approved\nReason: okay");
  assert.equal(resolutionNote("expired", ""), "Access request has been expired\n");
});

Deno.test("request link from the proxy address: https assumed, default port dropped, id escaped", () => {
  assert.equal(requestLink("proxy.example.com:443", "r1"), "https://proxy.example.com/web/requests/r1");
  assert.equal(requestLink("proxy.example.com:3080", "r1"), "https://proxy.example.com:3080/web/requests/r1");
  assert.equal(requestLink("http://localhost:8080", "a/b c"), "http://localhost:8080/web/requests/a%2Fb%20c");
});

Deno.test("truncateChars counts code points and never splits a surrogate pair", () => {
  assert.equal(truncateChars("short", 10), "short");
  const emoji = "😀".repeat(MAX_TITLE_CHARS); // 2 UTF-16 units each: fits in code points
  assert.equal(truncateChars(emoji, MAX_TITLE_CHARS), emoji);
  const cut = truncateChars("a" + "😀".repeat(2_000), MAX_TITLE_CHARS);
  assert.equal(Array.from(cut).length, MAX_TITLE_CHARS);
  assert.ok(cut.endsWith("…"));
  assert.ok(wellFormed(cut));
});

Deno.test("truncateUtf8 counts bytes and cuts on a character boundary", () => {
  assert.equal(truncateUtf8("ok", 10), "ok");
  for (const filler of ["é", "€", "😀"]) {
    const text = "x" + filler.repeat(40_000);
    const cut = truncateUtf8(text, MAX_DETAILS_BYTES);
    assert.ok(bytes(cut) <= MAX_DETAILS_BYTES, `${filler}: ${bytes(cut)} bytes`);
    assert.ok(bytes(cut) > MAX_DETAILS_BYTES - 8, `${filler}: cut far too early`);
    assert.ok(wellFormed(cut), filler);
    assert.ok(cut.endsWith("…"));
  }
});

Deno.test("createIncident enforces the title and details limits on what it sends", () =>
  withDouble(async (pd) => {
    using client = clientFor(pd);
    const service = pd.addService({ name: "S" });
    await client.createIncident({
      serviceId: service.id,
      requestId: "r1",
      title: incidentTitle("😀".repeat(3_000)),
      details: "€".repeat(100_000),
    });
    const [incident] = pd.incidents();
    assert.equal(Array.from(incident.title).length, MAX_TITLE_CHARS);
    assert.ok(bytes(incident.details as string) <= MAX_DETAILS_BYTES);
    assert.ok(wellFormed(incident.title) && wellFormed(incident.details as string));
  }));
