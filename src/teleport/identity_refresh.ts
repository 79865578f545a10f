/**
 * `refresh_identity`: Machine ID (tbot) renews the identity file in place, often
 * hourly, so the plugin re-reads it every interval and gives new connections the
 * new certificate. A failed read keeps the old identity and is retried next time.
 */
import type { TeleportConfig } from "../config/types.ts";
import { loadCredentials, type TlsCredentials } from "./credentials.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("teleport");

export function refreshIdentityPeriodically(
  config: TeleportConfig,
  channel: { update(credentials: TlsCredentials): void },
  signal: AbortSignal,
): void {
  let currentCert = loadCredentials(config).certChain;
  const timer = setInterval(() => {
    try {
      const credentials = loadCredentials(config);
      if (credentials.certChain.equals(currentCert)) return;
      channel.update(credentials);
      currentCert = credentials.certChain;
      log.info("Reloaded the identity file", { identity: config.identity });
    } catch (error) {
      log.error("Failed to reload identity file from disk: {error}", { error: (error as Error).message });
    }
  }, config.refreshIdentityInterval);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
}
