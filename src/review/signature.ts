/**
 * Authenticating deliveries: PagerDuty V3 webhook signatures (HMAC-SHA256 over the raw
 * body, one or more `v1=<hex>` values) and the shared secret a Custom Incident Action
 * carries in a header. Every comparison is constant-time.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

export type SignatureCheck = "valid" | "missing" | "malformed" | "mismatch";

/** The most `v1=` values looked at: rotation needs two or three, not hundreds. */
const MAX_SIGNATURES = 8;

/** Checks `X-PagerDuty-Signature` against the raw body bytes; any listed v1 signature may match. */
export function checkWebhookSignature(
  secret: string,
  rawBody: Uint8Array,
  header: string | null,
): SignatureCheck {
  if (header === null || header.trim() === "") return "missing";
  const candidates = header.split(",").map((part) => part.trim()).filter((part) => part.startsWith("v1="))
    .slice(0, MAX_SIGNATURES).map((part) => part.slice(3).toLowerCase());
  if (candidates.length === 0 || candidates.some((hex) => !/^[0-9a-f]{64}$/.test(hex))) return "malformed";
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  // Compare against every candidate, so the time taken does not tell which one matched.
  let matched = false;
  for (const hex of candidates) matched = timingSafeEqual(expected, Buffer.from(hex, "hex")) || matched;
  return matched ? "valid" : "mismatch";
}

/**
 * Constant-time equality of two secrets of any length: both are reduced to an HMAC of
 * fixed size under a per-process key first, so neither content nor length leaks.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (value: string) => createHmac("sha256", COMPARE_KEY).update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const COMPARE_KEY = crypto.getRandomValues(new Uint8Array(32));
