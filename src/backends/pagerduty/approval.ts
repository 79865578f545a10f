/** PagerDuty's on-call auto-approval rules that need no I/O: who may be looked up, and the wording. */

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

/** The review reason of an auto-approval, worded as the Go plugin words it. */
export function approvalReason(userName: string, userEmail: string, services: string[]): string {
  return `Access requested by user ${userName} (${userEmail}) who is on call in service(s) ${
    services.join(",")
  }`;
}
