/** Settings read from the environment, as the Go plugin reads them. */

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/**
 * TELEPORT_PLUGIN_FAIL_FAST: exit on a lost Teleport connection instead of
 * reconnecting. Go's strconv.ParseBool spellings; anything else is an error, as upstream.
 */
export function failFastFromEnv(get: (name: string) => string | undefined = Deno.env.get): boolean {
  const value = get("TELEPORT_PLUGIN_FAIL_FAST");
  if (value === undefined || value === "") return false;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new Error(`TELEPORT_PLUGIN_FAIL_FAST: invalid boolean "${value}" (use true or false)`);
}
