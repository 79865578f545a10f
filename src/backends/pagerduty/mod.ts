/** Public surface of the PagerDuty backend. */
export * from "./client.ts";
export * from "./errors.ts";
export * from "./texts.ts";
export type { Clock } from "../../http/clock.ts";
export type { RetryPolicy } from "../../http/transport.ts";
