/**
 * PagerDuty user → Teleport user. The Teleport user must be unique: the one user whose
 * configured trait holds the PagerDuty user id, or, only when explicitly enabled and no
 * trait matches, the user named exactly like the PagerDuty email (PagerDuty users can
 * edit their own email, so this is weaker).
 */
import type { PagerDutyUserInfo } from "../backends/pagerduty/review_api.ts";
import type { ReviewTeleport } from "./ports.ts";

export type IdentityResult = { user: string; via: "trait" | "email" } | { problem: string };

export interface IdentityOptions {
  trait: string;
  matchEmail: boolean;
}

/** Finds the Teleport user for `pdUser`, or says why there is no unique one. */
export async function mapPagerDutyUser(
  pdUser: PagerDutyUserInfo,
  teleport: Pick<ReviewTeleport, "listUsers" | "getUser">,
  options: IdentityOptions,
): Promise<IdentityResult> {
  const users = await teleport.listUsers();
  const matches = users.filter((user) => (user.traits[options.trait] ?? []).includes(pdUser.id));
  if (matches.length === 1) return { user: matches[0].name, via: "trait" };
  if (matches.length > 1) {
    return {
      problem: `${matches.length} Teleport users have trait ${options.trait} = ${pdUser.id} (${
        matches.map((u) => u.name).join(", ")
      }); exactly one must`,
    };
  }
  if (options.matchEmail && pdUser.email !== "") {
    const byEmail = await teleport.getUser(pdUser.email);
    if (byEmail) return { user: byEmail.name, via: "email" };
    return {
      problem: `no Teleport user has trait ${options.trait} = ${pdUser.id} or is named ${pdUser.email}`,
    };
  }
  return { problem: `no Teleport user has trait ${options.trait} = ${pdUser.id}` };
}
