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
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: "ready",
    ready: true,
    watching: true,
    backlog: 0,
    retrying: 0,
  });
  await running.stop();
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});
