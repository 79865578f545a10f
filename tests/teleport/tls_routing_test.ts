/**
 * Dialing through a Proxy with TLS routing: the ClientHello offers
 * `teleport-auth@<hex(cluster)>.teleport.cluster.local` then `h2`, the proxy forwards
 * raw bytes, and mutual TLS is negotiated end to end with the Auth Service. These
 * tests also pin the grpc-js SecureConnector interface our ALPN credentials use.
 */
import assert from "node:assert/strict";
import { loadCredentials } from "../../src/teleport/credentials.ts";
import { authAlpnProtocol, dialRoutes, parseAddress } from "../../src/teleport/dial.ts";
import { ConnectionProblemError } from "../../src/teleport/errors.ts";
import { isInit, startHarness, takeUntil } from "./harness.ts";

Deno.test("the ALPN protocol names the cluster in hex", () => {
  assert.equal(authAlpnProtocol("a.b"), "teleport-auth@612e62.teleport.cluster.local");
});

Deno.test("auto tries direct and TLS routing whatever the port; dial_mode forces one", async () => {
  await using h = await startHarness({ clusterName: "from-ca.example.com" });
  const credentials = loadCredentials(h.config());
  const both = (target: string, cluster: string) => [
    { kind: "direct", target },
    { kind: "tls-routing", target, routeToCluster: cluster },
  ];
  assert.deepEqual(
    dialRoutes(h.config({ addr: "auth.example.com" }), credentials),
    both("auth.example.com:3025", "from-ca.example.com"),
  );
  assert.deepEqual(
    dialRoutes(h.config({ addr: "proxy.example.com:8443" }), credentials),
    both("proxy.example.com:8443", "from-ca.example.com"),
  );
  assert.deepEqual(
    dialRoutes(h.config({ addr: "[::1]:8443", clusterName: "c" }), credentials),
    both("[::1]:8443", "c"),
  );
  assert.deepEqual(dialRoutes(h.config({ addr: "10.0.0.1:443", dialMode: "direct" }), credentials), [
    { kind: "direct", target: "10.0.0.1:443" },
  ]);
  assert.deepEqual(
    dialRoutes(
      h.config({ addr: "10.0.0.1:3025", dialMode: "tls-routing", clusterName: "explicit" }),
      credentials,
    ),
    [{ kind: "tls-routing", target: "10.0.0.1:3025", routeToCluster: "explicit" }],
  );
  assert.deepEqual(parseAddress("[::1]"), { host: "::1", port: 3025 });
  assert.throws(() => parseAddress("host:99999"), { name: "BadParameterError" });
});

Deno.test("calls and the watch go through the router to the Auth Service", async () => {
  await using h = await startHarness();
  const router = await h.double.startRouter();
  const client = h.client({ addr: router.addr, dialMode: "tls-routing" });
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
    dialMode: "tls-routing",
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
  const client = h.client({ addr: router.addr, clusterName: "wrong.example.com", dialMode: "tls-routing" }, {
    callTimeoutMs: 2_000,
  });
  await assert.rejects(client.ping(), (error: Error) => {
    assert.ok(error instanceof ConnectionProblemError);
    assert.match(
      error.message,
      /tried TLS routing for cluster "wrong\.example\.com"\): .*check teleport\.addr, teleport\.cluster_name$/,
    );
    return true;
  });
  assert.equal(router.routedConnections, 0);
  assert.ok(router.rejectedConnections >= 1);
});

Deno.test("the ALPN credentials also work directly against an Auth Service (it picks h2)", async () => {
  await using h = await startHarness();
  assert.ok(await h.client({ dialMode: "tls-routing" }).ping());
});
