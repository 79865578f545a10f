/**
 * Teleport users as the review feature needs them: name, roles and traits, decoded
 * from types.UserV2 (teleport.users.v1.UsersService answers).
 */
import type { UserV2 } from "./gen/teleport/legacy/types/types_pb.ts";
import { labelValuesFromWire } from "./codec.ts";

export interface TeleportUser {
  name: string;
  roles: string[];
  /** Go's map[string][]string. */
  traits: Record<string, string[]>;
}

/** The domain view of a wire user. */
export function userFromWire(user: UserV2): TeleportUser {
  return {
    name: user.Metadata?.Name ?? "",
    roles: [...(user.Spec?.Roles ?? [])],
    traits: labelValuesFromWire(user.Spec?.Traits),
  };
}
