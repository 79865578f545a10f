/**
 * A lease in plugin data names the one instance doing a request's side effects.
 * Others leave the request alone until the lease expires, so side effects happen
 * once, and a crashed holder's work is taken over after the expiry.
 */

export interface Lease {
  owner: string;
  /** Unix milliseconds. */
  until: number;
}

export function formatLease(lease: Lease): string {
  return `${lease.owner}@${lease.until}`;
}

export function parseLease(raw: string): Lease | null {
  const at = raw.lastIndexOf("@");
  if (at <= 0) return null;
  const until = Number(raw.slice(at + 1));
  return Number.isFinite(until) ? { owner: raw.slice(0, at), until } : null;
}

/** Milliseconds until another instance's live lease expires, or 0 when we may take it. */
export function leaseWait(raw: string, me: string, now: number): number {
  const lease = parseLease(raw);
  if (!lease || lease.owner === me) return 0;
  return Math.max(0, lease.until - now);
}
