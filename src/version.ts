/** Release metadata; scripts/release.sh stamps all three values at build time. */
export const VERSION: string = "0.1.0";
export const GIT_REF: string = "dev";
/** How this build runs: "source" (deno run), "compiled" (deno compile) or "launcher" (pinned deno + bundle). */
export const FLAVOUR: string = "source";
