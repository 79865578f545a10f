/**
 * The identity component: how long until the Teleport client certificate expires.
 * The certificate is re-read on a timer (tbot renews it in place), never during a probe.
 */
import type { TeleportConfig } from "../../config/types.ts";
import { clientCertificateNotAfter } from "../../teleport/cert_expiry.ts";
import type { ComponentStatus } from "./readiness.ts";

/** Below this, the identity is reported as degraded: time to renew it. */
export const IDENTITY_WARNING_SECONDS = 3 * 24 * 3600;
const DEFAULT_REREAD_MS = 60_000;

export class IdentityExpiry implements Disposable {
  #notAfter?: Date;
  #error?: string;
  #timer?: ReturnType<typeof setInterval>;

  constructor(
    readonly read: () => Date,
    readonly clock: () => Date = () => new Date(),
  ) {
    this.refresh();
  }

  /** Reads the configured certificate now, then every `intervalMs` (identity refresh interval). */
  static watch(config: TeleportConfig, intervalMs = config.refreshIdentityInterval || DEFAULT_REREAD_MS) {
    const expiry = new IdentityExpiry(() => clientCertificateNotAfter(config));
    expiry.#timer = setInterval(() => expiry.refresh(), intervalMs);
    // Reporting must never keep a finished process alive.
    Deno.unrefTimer(expiry.#timer);
    return expiry;
  }

  /** Re-reads the certificate; a failure keeps the last good value and is reported. */
  refresh(): void {
    try {
      this.#notAfter = this.read();
      this.#error = undefined;
    } catch (error) {
      this.#error = (error as Error).message;
    }
  }

  /** The certificate's NotAfter, if it could be read. */
  notAfter(): Date | undefined {
    return this.#notAfter;
  }

  /** The /readyz component. */
  status(): ComponentStatus {
    if (!this.#notAfter) {
      return { status: "unhealthy", reason: this.#error ?? "identity not read yet" };
    }
    const seconds = Math.floor((this.#notAfter.getTime() - this.clock().getTime()) / 1000);
    const detail = { expires_at: this.#notAfter.toISOString(), expires_in_seconds: seconds };
    const readError = this.#error ? { read_error: this.#error } : {};
    if (seconds <= 0) {
      return { status: "unhealthy", reason: "the Teleport identity has expired; sign a new one", ...detail };
    }
    if (seconds < IDENTITY_WARNING_SECONDS) {
      return {
        status: "degraded",
        reason: `the Teleport identity expires in ${Math.floor(seconds / 3600)} h; renew it`,
        ...detail,
        ...readError,
      };
    }
    return { status: "healthy", ...detail, ...readError };
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer);
  }
}
