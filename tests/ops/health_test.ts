import assert from "node:assert/strict";
import { type Readiness, serveHealth } from "../../src/ops/health.ts";

async function get(port: number, path: string, method = "GET"): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.json() };
}

Deno.test("/healthz answers ok; /readyz answers 200 or 503 with the details", async () => {
  let state: Readiness = { ready: false, reason: "starting" };
  await using server = serveHealth("127.0.0.1:0", () => state);
  assert.deepEqual(await get(server.port, "/healthz"), { status: 200, body: { status: "ok" } });
  assert.deepEqual(await get(server.port, "/readyz"), {
    status: 503,
    body: { status: "not ready", ready: false, reason: "starting" },
  });
  state = { ready: true, backlog: 3 };
  assert.deepEqual(await get(server.port, "/readyz"), {
    status: 200,
    body: { status: "ready", ready: true, backlog: 3 },
  });
  assert.equal((await get(server.port, "/other")).status, 404);
  assert.equal((await get(server.port, "/healthz", "POST")).status, 405);
});

Deno.test("an address in use is a clear startup error naming [diag] addr", async () => {
  await using first = serveHealth("127.0.0.1:0", () => ({ ready: true }));
  assert.throws(
    () => serveHealth(`127.0.0.1:${first.port}`, () => ({ ready: true })),
    /cannot serve the health endpoints on 127\.0\.0\.1:\d+ \(\[diag\] addr\)/,
  );
});
