/**
 * Keeps secrets out of logs: whatever a caller passes as a property or message
 * value, the configured API key (and anything under a secret-sounding property
 * name) is replaced before formatting.
 */
import type { LogRecord } from "@logtape/logtape";

export const REDACTED = "[REDACTED]";

/** Very short "secrets" would blank out ordinary words; real keys are long. */
const MIN_SECRET_LENGTH = 4;
/** Bounds work on deep or cyclic structures; anything deeper is dropped. */
const MAX_DEPTH = 6;

/** apiKey, api_key, API-KEY, private_key, token, access_token, password, secret, authorization… */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_]/g, "");
  return n.endsWith("token") || ["apikey", "privatekey", "password", "secret", "authorization"].includes(n);
}

export class Redactor {
  readonly #secrets: string[];

  constructor(secrets: readonly string[]) {
    this.#secrets = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  }

  text(s: string): string {
    return this.#secrets.reduce((acc, secret) => acc.replaceAll(secret, REDACTED), s);
  }

  value(v: unknown, depth = 0): unknown {
    if (typeof v === "string") return this.text(v);
    if (typeof v !== "object" || v === null) return v;
    if (depth >= MAX_DEPTH) return "[…]";
    if (v instanceof Error) return this.#error(v, depth);
    if (v instanceof Date) return v;
    if (Array.isArray(v)) return v.map((item) => this.value(item, depth + 1));
    return this.properties(v as Record<string, unknown>, depth + 1);
  }

  properties(props: Record<string, unknown>, depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(props)) {
      out[k] = isSecretName(k) ? REDACTED : this.value(val, depth);
    }
    return out;
  }

  record(r: LogRecord): LogRecord {
    return {
      ...r,
      message: r.message.map((part) => this.value(part)),
      properties: this.properties(r.properties),
    };
  }

  #error(e: Error, depth: number): Error {
    const copy = new Error(
      this.text(e.message),
      e.cause === undefined ? undefined : { cause: this.value(e.cause, depth + 1) },
    );
    copy.name = e.name;
    copy.stack = e.stack === undefined ? undefined : this.text(e.stack);
    return copy;
  }
}
