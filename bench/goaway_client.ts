/**
 * The plugin side of bench/goaway.ts, in its own process (the crash kills it): connect
 * with a channel strategy, open the watch; after each INIT (the first, and one after every
 * server restart) run a few calls as the plugin's resync does and print "ready". It runs
 * until the bench kills it (SIGKILL: closing would send a client GOAWAY, which could crash
 * the Deno server, and that is not what is measured).
 *
 * With BUSY = "busy" it also keeps one unary call after another in flight the whole time
 * (what a plugin does under load), so GOAWAYs reach a connection in use.
 *
 *   deno run <flags> bench/goaway_client.ts ADDR CREDENTIALS_DIR STRATEGY [busy]
 */
import { join } from "node:path";
import { TeleportClient } from "../src/teleport/client.ts";
import { CHANNEL_STRATEGIES, type ChannelStrategy } from "../src/teleport/channels.ts";
import type { WatchEvent } from "../src/core/types.ts";

const [addr, dir, strategy, busy] = Deno.args;
const BUSY_PAUSE_MS = 20;
if (!CHANNEL_STRATEGIES.includes(strategy as ChannelStrategy)) {
  throw new Error(`unknown strategy ${strategy}`);
}

const client = TeleportClient.connect({
  addr,
  dialMode: "direct",
  clientKey: join(dir, "plugin.key"),
  clientCrt: join(dir, "plugin.crt"),
  rootCas: join(dir, "plugin.cas"),
  refreshIdentity: false,
  refreshIdentityInterval: 60_000,
}, { channelStrategy: strategy as ChannelStrategy });

/** What the plugin does after an INIT: ping, list pending requests, read each one's plugin data. */
async function someCalls(): Promise<void> {
  await client.ping();
  const pending = [];
  for await (const page of client.pendingRequests()) pending.push(...page);
  for (const request of pending) await client.getPluginData(request.id, "pagerduty");
  await client.listPluginData("pagerduty");
}

/** someCalls, retried as the plugin would: a call can fail while the server restarts. */
async function callsWithRetry(): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await someCalls();
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function nextInit(events: AsyncIterator<WatchEvent>): Promise<void> {
  while (true) {
    const next = await events.next();
    if (next.done) throw new Error("the watch ended");
    if (next.value.type === "init") return;
  }
}

if (busy === "busy") {
  (async () => {
    while (true) {
      // Failures during a restart are expected; only a process death counts.
      await client.getPluginData("busy", "pagerduty").catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, BUSY_PAUSE_MS));
    }
  })();
}

const events = client.watch(["access_request"], new AbortController().signal)[Symbol.asyncIterator]();
// Every (re)connected watch starts with INIT: do what the plugin does then, and say so.
for (let round = 0;; round++) {
  await nextInit(events);
  for (let i = 0; i < (round === 0 ? 3 : 1); i++) await callsWithRetry();
  console.log("ready");
}
