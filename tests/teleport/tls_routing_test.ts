/**
 * Dialing through a Proxy with TLS routing: the ClientHello offers
 * `teleport-auth@<hex(cluster)>.teleport.cluster.local` then `h2`, the proxy forwards
 * raw bytes, and mutual TLS is negotiated end to end with the Auth Service. These
 * tests also pin the grpc-js SecureConnector interface our ALPN credentials use.
 */
import assert from "node:assert/strict";
import { loadCredentials } from "../../src/teleport/credentials.ts";
import { authAlpnProtocol, parseAddress, planDial } from "../../src/teleport/dial.ts";
import { ConnectionProblemError } from "../../src/teleport/errors.ts";
import { isInit, startHarness, takeUntil } from "./harness.ts";

Deno.test("the ALPN protocol names the cluster in hex", () => {
  assert.equal(authAlpnProtocol("a.b"), "teleport-auth@612e62.teleport.cluster.local");
});

Deno.test("routing is used when a cluster name is configured or the port is 443/3080", async () => {
  await using h = await startHarness({ clusterName: "from-ca.example.com" });
  const credentials = loadCredentials(h.config());
  assert.deepEqual(planDial(h.config({ addr: "auth.example.com" }), credentials), {
    target: "auth.example.com:3025",
  });
  assert.deepEqual(planDial(h.config({ addr: "proxy.example.com:443" }), credentials), {
    target: "proxy.example.com:443",
    routeToCluster: "from-ca.example.com",
  });
  assert.deepEqual(planDial(h.config({ addr: "10.0.0.1:3080", clusterName: "explicit" }), credentials), {
    target: "10.0.0.1:3080",
    routeToCluster: "explicit",
  });
  assert.deepEqual(planDial(h.config({ addr: "[::1]:8443", clusterName: "c" }), credentials), {
    target: "[::1]:8443",
    routeToCluster: "c",
  });
  assert.deepEqual(parseAddress("[::1]"), { host: "::1", port: 3025 });
  assert.throws(() => parseAddress("host:99999"), { name: "BadParameterError" });
});

Deno.test("calls and the watch go through the router to the Auth Service", async () => {
  await using h = await startHarness();
  const router = await h.double.startRouter();
  const client = h.client({ addr: router.addr, clusterName: h.double.clusterName });
  assert.equal((await client.ping()).clusterName, h.double.clusterName);
  assert.deepEqual(router.alpnSeen[0], [authAlpnProtocol(h.double.clusterName), "h2"]);

  const abort = new AbortController();
  const events = client.watch(["access_request"], abort.signal)[Symbol.asyncIterator]();
  await takeUntil(events, isInit);
  await h.double.restart({ graceful: true });
  await takeUntil(events, isInit);
  abort.abort();
  await events.return?.();
  assert.ok(router.routedConnections >= 2, `routed ${router.routedConnections}`);
  assert.equal(router.rejectedConnections, 0);
});

Deno.test("an identity file works through the router", async () => {
  await using h = await startHarness();
  const router = await h.double.startRouter();
  const client = h.client({
    addr: router.addr,
    clusterName: h.double.clusterName,
    identity: h.creds.identity,
    clientKey: undefined,
    clientCrt: undefined,
    rootCas: undefined,
  });
  assert.ok(await client.ping());
});

Deno.test("the router drops a connection that names another cluster", async () => {
  await using h = await startHarness();
  const router = await h.double.startRouter();
  const client = h.client({ addr: router.addr, clusterName: "wrong.example.com" }, { callTimeoutMs: 2_000 });
  await assert.rejects(client.ping(), ConnectionProblemError);
  assert.equal(router.routedConnections, 0);
  assert.ok(router.rejectedConnections >= 1);
});

Deno.test("the ALPN credentials also work directly against an Auth Service (it picks h2)", async () => {
  await using h = await startHarness();
  assert.ok(await h.client({ clusterName: h.double.clusterName }).ping());
});
