/**
 * Exercises what a running plugin does, as far as the plugin is wired today, so the
 * release permission set can be checked (and re-audited with DENO_AUDIT_PERMISSIONS):
 * load the config (+ API-key file), log to a file, load TLS credentials, dial Teleport
 * through grpc-js (by hostname, so node:dns runs), call PagerDuty with fetch, install
 * the signal handlers. Usage: deno run <flags> runtime_probe.ts <config.toml>
 * Prints "probe ok" on success; a NotCapable error anywhere fails it.
 */
import { loadConfig } from "../../../src/config/load.ts";
import { getLog, setupLogging, shutdownLogging } from "../../../src/ops/logging.ts";
import { handleSignals } from "../../../src/ops/signals.ts";
import { TeleportClient } from "../../../src/teleport/client.ts";
import { PagerDutyClient } from "../../../src/backends/pagerduty/mod.ts";

function notCapable(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e.name === "NotCapable" || e instanceof Deno.errors.NotCapable || /NotCapable/.test(e.message)) {
      return true;
    }
  }
  return false;
}

const [configPath] = Deno.args;
const { config } = await loadConfig(configPath);
await setupLogging(config.log, { secrets: [config.pagerduty.apiKey] });
getLog("probe").info("probe started");
const stopSignals = handleSignals({ onShutdown: () => {} });

const teleport = TeleportClient.connect(config.teleport, { callTimeoutMs: 1_000 });
try {
  await teleport.ping();
} catch (err) {
  if (notCapable(err)) throw err;
  getLog("probe").info("teleport ping failed as expected: {error}", { error: String(err) });
}
teleport.close();

const pd = new PagerDutyClient(
  { ...config.pagerduty, requestTimeout: 1_000 },
  { retry: { deadlineMs: 500, baseDelayMs: 1, maxDelayMs: 2 } },
);
try {
  await pd.healthCheck();
} catch (err) {
  if (notCapable(err)) throw err;
  getLog("probe").info("pagerduty call failed as expected: {error}", { error: String(err) });
}
pd.close();
stopSignals();
await shutdownLogging();
console.log("probe ok");
