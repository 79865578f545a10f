/** The composition root: what `start` runs, against the doubles. */
import assert from "node:assert/strict";
import { startWorld } from "../src/doubles/world.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("[diag] addr serves /readyz for the running plugin, and stops with it", async () => {
  await using world = await startWorld();
  const port = freePort();
  world.config.diag.addr = `127.0.0.1:${port}`;
  const running = await world.startPlugin();
  // The diagnostics server answers from a snapshot published every second.
  let body: { status?: string; components?: Record<string, { status: string }> } = {};
  for (let attempt = 0; attempt < 100 && body.components?.teleport_watch?.status !== "healthy"; attempt++) {
    body = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json();
    if (body.components?.teleport_watch?.status !== "healthy") await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(body.components?.teleport_watch?.status, "healthy", JSON.stringify(body));
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /^teleport_plugin_info\{.*plugin="pagerduty".*\} 1$/m);
  await running.stop();
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});
