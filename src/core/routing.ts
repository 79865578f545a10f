import type { AccessRequest } from "./types.ts";
/** Recipients chosen by rules for one request; undefined: no rule matched, use the request's annotations. */
export interface RecipientRules {
  /** The de-duplicated recipients of every matching rule for `request`, or undefined when none matches. */
  recipientsFor(request: AccessRequest): Promise<string[] | undefined>;
  /** Problems to show in readiness detail (e.g. missing permission to list/watch rules); empty when fine. */
  problems(): string[];
}
