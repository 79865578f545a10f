/** Release metadata; scripts/release stamps both values at build time. */
export const VERSION: string = "0.1.0";
export const GIT_REF: string = "dev";
