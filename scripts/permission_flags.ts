/**
 * Prints the release permission set from deno.json (`permissions.plugin`) as explicit
 * `deno run` flags, one per line, for places that cannot use `-P=plugin` because
 * they run without deno.json (the bundle, a wrapper script). The set is written
 * once, in deno.json; release.sh and tests/release use this instead of a copy.
 *
 *   deno run --allow-read=deno.json scripts/permission_flags.ts [--set NAME] [--one-line]
 */

type Scope = boolean | string[] | { allow?: boolean | string[]; deny?: boolean | string[] };

const KINDS = ["read", "write", "net", "env", "sys", "run", "ffi", "import"] as const;

/** Turns one permission set (as in deno.json) into CLI flags. */
export function flagsFromSet(set: Record<string, Scope>): string[] {
  for (const key of Object.keys(set)) {
    if (!(KINDS as readonly string[]).includes(key)) throw new Error(`unsupported permission kind "${key}"`);
  }
  const flags: string[] = [];
  for (const kind of KINDS) {
    const scope = set[kind];
    if (scope === undefined || scope === false) continue;
    const { allow, deny } = Array.isArray(scope) || typeof scope === "boolean"
      ? { allow: scope, deny: undefined }
      : scope;
    if (allow === true) flags.push(`--allow-${kind}`);
    else if (Array.isArray(allow) && allow.length > 0) flags.push(`--allow-${kind}=${allow.join(",")}`);
    if (deny === true) flags.push(`--deny-${kind}`);
    else if (Array.isArray(deny) && deny.length > 0) flags.push(`--deny-${kind}=${deny.join(",")}`);
  }
  // The plugin runs unattended: a missing permission must fail, never prompt.
  flags.push("--no-prompt");
  return flags;
}

/**
 * V8 heap settings every release runs with: a small young generation and a bounded old
 * one make V8 collect instead of growing the heap through a burst (5,000 pending requests
 * peak at about 140 MiB instead of 290 MiB; bench/RESULTS.md). 256 MiB of old space holds
 * tens of thousands of pending requests.
 */
export const V8_FLAGS = "--v8-flags=--max-semi-space-size=1,--max-old-space-size=256";

/** Reads `permissions.<name>` from a deno.json and returns its flags, with the release's V8 settings. */
export function permissionFlags(
  configPath: string | URL = new URL("../deno.json", import.meta.url),
  name = "plugin",
): string[] {
  const config = JSON.parse(Deno.readTextFileSync(configPath));
  const set = config.permissions?.[name];
  if (!set) throw new Error(`deno.json has no permissions.${name} set`);
  return [...flagsFromSet(set), V8_FLAGS];
}

if (import.meta.main) {
  const args = [...Deno.args];
  const setIndex = args.indexOf("--set");
  const name = setIndex >= 0 ? args[setIndex + 1] : "plugin";
  const flags = permissionFlags(undefined, name);
  console.log(args.includes("--one-line") ? flags.join(" ") : flags.join("\n"));
}
