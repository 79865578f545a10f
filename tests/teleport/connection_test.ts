/**
 * Reaching the Auth Service: the route that answers is kept whatever the port, and when
 * none does, one line says what failed, where, why, and which key to check.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { TeleportDouble } from "../../src/doubles/teleport_double.ts";
import { TeleportUnreachableError } from "../../src/teleport/connection.ts";
import { authAlpnProtocol } from "../../src/teleport/dial.ts";
import { isInit, refusedAddr, startHarness, takeUntil } from "./harness.ts";

async function unreachable(work: Promise<unknown>): Promise<TeleportUnreachableError> {
  const error = await work.then(() => undefined, (e) => e);
  assert.ok(error instanceof TeleportUnreachableError, `expected TeleportUnreachableError, got ${error}`);
  assert.doesNotMatch(error.message, /No connection established|Resolution note|\n/);
  return error;
}

Deno.test("auto mode reaches a TLS-routing proxy on a port other than 443/3080 and keeps that route", async () => {
  await using h = await startHarness();
  const router = await h.double.startRouter();
  assert.ok(![443, 3080].includes(router.port));
  const client = h.client({ addr: router.addr });
  assert.equal((await client.ping()).clusterName, h.double.clusterName);
  assert.equal(client.dialRoute?.kind, "tls-routing");
  // The direct attempt (ALPN h2 only) is what the proxy drops; the routed one gets through.
  assert.ok(router.alpnSeen.some((alpn) => alpn.length === 1 && alpn[0] === "h2"));
  const routed = [authAlpnProtocol(h.double.clusterName), "h2"];
  assert.ok(router.alpnSeen.some((alpn) => JSON.stringify(alpn) === JSON.stringify(routed)));
  for await (const _page of client.pendingRequests()) { /* the first call picks the route */ }
  assert.equal(h.double.calls.Ping, 1);
});

Deno.test("auto mode against an Auth Service keeps the direct route after one Ping", async () => {
  await using h = await startHarness();
  const client = h.client({});
  await client.ping();
  assert.equal(client.dialRoute?.kind, "direct");
  assert.equal(h.double.calls.Ping, 1);
});

Deno.test("dial_mode forces one route: direct at a proxy fails, tls-routing at the proxy works", async () => {
  await using h = await startHarness();
  const router = await h.double.startRouter();
  const direct = await unreachable(h.client({ addr: router.addr, dialMode: "direct" }).ping());
  assert.deepEqual(direct.failures.map((f) => [f.route.kind, f.cause]), [["direct", "handshake-closed"]]);
  assert.match(direct.message, new RegExp(`at ${router.addr} \\(tried direct\\):.*check teleport\\.addr$`));
  const routed = h.client({ addr: router.addr, dialMode: "tls-routing" });
  await routed.ping();
  assert.equal(routed.dialRoute?.kind, "tls-routing");
});

Deno.test("a refused connection names the address, both routes and teleport.addr", async () => {
  await using h = await startHarness();
  const addr = refusedAddr();
  const error = await unreachable(h.client({ addr }).ping());
  assert.deepEqual(error.failures.map((f) => f.cause), ["refused", "refused"]);
  assert.equal(
    error.message,
    `Cannot reach the Teleport Auth Service at ${addr} (tried direct and TLS routing for cluster ` +
      `"${h.double.clusterName}"): connection refused (nothing listens there): ECONNREFUSED; check teleport.addr`,
  );
});

Deno.test("a host name that does not resolve is a DNS failure", async () => {
  await using h = await startHarness();
  const error = await unreachable(
    h.client({ addr: "teleport.invalid:3025", dialMode: "direct" }).ping(),
  );
  assert.equal(error.failures[0].cause, "dns");
  assert.match(error.message, /at teleport\.invalid:3025 \(tried direct\): the host name does not resolve/);
  assert.match(error.message, /check teleport\.addr$/);
});

Deno.test("a server whose certificate comes from another CA is rejected, pointing at the credential keys", async () => {
  await using h = await startHarness();
  const other = await TeleportDouble.start({ clusterName: "other.example.com" });
  try {
    const error = await unreachable(h.client({ addr: other.addr, dialMode: "direct" }).ping());
    assert.equal(error.failures[0].cause, "server-certificate");
    assert.match(error.message, /certificate was rejected/);
    assert.match(error.message, /check teleport\.client_crt, teleport\.client_key, teleport\.root_cas$/);
    const viaIdentity = await unreachable(
      h.client({
        addr: other.addr,
        dialMode: "direct",
        identity: h.creds.identity,
        clientCrt: undefined,
        clientKey: undefined,
        rootCas: undefined,
      }).ping(),
    );
    assert.match(viaIdentity.message, /check teleport\.identity$/);
    assert.equal(other.calls.Ping, undefined);
  } finally {
    await other.close();
  }
});

Deno.test("a client certificate the server does not trust is named as such", async () => {
  await using h = await startHarness();
  const other = await TeleportDouble.start({ clusterName: "other.example.com" });
  try {
    const foreign = await other.writeCredentials("stranger", h.dir);
    const client = h.client({
      dialMode: "direct",
      clientKey: foreign.clientKey,
      clientCrt: foreign.clientCrt,
    });
    const error = await unreachable(client.ping());
    assert.equal(error.failures[0].cause, "client-certificate");
    assert.match(error.message, /rejected the plugin's client certificate/);
  } finally {
    await other.close();
  }
});

Deno.test("an HTTPS server that is not Teleport (trusted certificate, no HTTP/2) is named as not a Teleport endpoint", async () => {
  await using h = await startHarness();
  const { certPem, keyPem } = await h.double.pki.issueServerCert();
  // An HTTP/1.1-only TLS server (a web server or load balancer page). An HTTP/2 one is not
  // used here: its shutdown GOAWAY can abort this test process (denoland/deno#36788).
  const server = tls.createServer({ key: keyPem, cert: certPem }, (socket) => {
    socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = await unreachable(h.client({ addr, dialMode: "direct" }).ping());
    assert.equal(error.failures[0].cause, "not-teleport");
    assert.match(error.message, /not a Teleport Auth Service endpoint: .*HTTP\/2.*check teleport\.addr$/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("a plain HTTP port is named as not a TLS endpoint", async () => {
  await using h = await startHarness();
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("hi"),
  );
  const error = await unreachable(
    h.client({ addr: `127.0.0.1:${server.addr.port}`, dialMode: "direct" }).ping(),
  );
  assert.equal(error.failures[0].cause, "not-tls");
});

Deno.test("a watch opened before any call reports why it cannot connect, then starts once Teleport answers", async () => {
  await using h = await startHarness();
  await h.double.refuseConnections(true);
  const client = h.client({ dialMode: "direct" }, {
    watcherTiming: { reconnectBaseMs: 20, reconnectCapMs: 200 },
  });
  const abort = new AbortController();
  const events = client.watch(["access_request"], abort.signal)[Symbol.asyncIterator]();
  const [lost] = await takeUntil(events, (event) => event.type === "lost");
  assert.match(
    lost.type === "lost" ? lost.reason : "",
    /Cannot reach the Teleport Auth Service at .*refused/,
  );
  await h.double.refuseConnections(false);
  await takeUntil(events, isInit);
  abort.abort();
  await events.return?.();
});
