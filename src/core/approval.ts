/** Decisions of the on-call auto-approval that need no I/O. */

const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\u0080-\\uFFFF]+";
const DOT_ATOM = `${ATEXT}(?:\\.${ATEXT})*`;
const BARE_EMAIL = new RegExp(`^${DOT_ATOM}@${DOT_ATOM}$`);

/**
 * A bare address such as `alice@example.com`: what Go's mail.ParseAddress accepts
 * and prints back unchanged (the Go plugin's rule). Display names, angle brackets,
 * quotes and spaces are refused.
 */
export function isBareEmail(value: string): boolean {
  return BARE_EMAIL.test(value);
}

export function approvalReason(userName: string, userEmail: string, services: string[]): string {
  return `Access requested by user ${userName} (${userEmail}) who is on call in service(s) ${
    services.join(",")
  }`;
}

/** Teleport's answer when this reviewer already reviewed: a fleet peer got there first. */
export function isAlreadyReviewed(message: string): boolean {
  return message.endsWith("has already reviewed this request");
}
