/** Public surface of the Opsgenie backend. */
export * from "./api.ts";
export * from "./backend.ts";
export * from "./client.ts";
export * from "./codec.ts";
export * from "./errors.ts";
export * from "./jsm_client.ts";
export * from "./texts.ts";
export type { RetryPolicy } from "../../http/transport.ts";
