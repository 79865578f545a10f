/**
 * The Teleport double's own contract where tests lean on it: the caller is read from the client
 * certificate when the call is handled, and a call whose client has already gone by then is
 * refused UNAUTHENTICATED (the double never throws from a handler).
 */
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { type CredentialPaths, TeleportDouble } from "../../src/doubles/teleport_double.ts";

/** An empty PingRequest as one gRPC length-prefixed message. */
const EMPTY_MESSAGE = new Uint8Array([0, 0, 0, 0, 0]);

interface RawCall {
  socket: tls.TLSSocket;
  session: http2.ClientHttp2Session;
  /** The `grpc-status` trailer, or undefined when the stream ended without one. */
  status: Promise<string | undefined>;
}

/** A Ping over its own mTLS connection, so the test can cut exactly that connection. */
function rawPing(double: TeleportDouble, creds: CredentialPaths): RawCall {
  const socket = tls.connect({
    host: "127.0.0.1",
    port: double.port,
    servername: "teleport.cluster.local",
    key: Deno.readTextFileSync(creds.clientKey),
    cert: Deno.readTextFileSync(creds.clientCrt),
    ca: Deno.readTextFileSync(creds.rootCas),
    ALPNProtocols: ["h2"],
  });
  const session = http2.connect(`https://127.0.0.1:${double.port}`, { createConnection: () => socket });
  session.on("error", () => {});
  const stream = session.request({
    ":method": "POST",
    ":path": "/proto.AuthService/Ping",
    "content-type": "application/grpc",
    te: "trailers",
  });
  const status = new Promise<string | undefined>((resolve) => {
    stream.on("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
    stream.on("close", () => resolve(undefined));
    stream.on("error", () => resolve(undefined));
  });
  stream.resume();
  stream.end(EMPTY_MESSAGE);
  return { socket, session, status };
}

async function withDouble(test: (double: TeleportDouble, creds: CredentialPaths) => Promise<void>) {
  const double = await TeleportDouble.start();
  const dir = await Deno.makeTempDir({ prefix: "teleport-double-test-" });
  try {
    await test(double, await double.writeCredentials("plugin", dir));
  } finally {
    await double.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a held call is answered on release, with the caller read from its client certificate", async () => {
  await withDouble(async (double, creds) => {
    const hold = double.holdCalls();
    const call = rawPing(double, creds);
    await hold.arrived;
    assert.equal(double.lastCaller, undefined);
    await hold.release();
    assert.equal(await call.status, "0");
    assert.equal(double.lastCaller, "plugin");
    assert.equal(double.unauthenticated, 0);
    call.session.destroy();
  });
});

Deno.test("a call whose client disconnects before the handler reads its certificate is refused, not thrown", async () => {
  await withDouble(async (double, creds) => {
    const hold = double.holdCalls();
    const call = rawPing(double, creds);
    const held = await hold.arrived;
    assert.equal(double.calls.Ping, 1);
    call.socket.destroy();
    await held.cancelled;
    await hold.release();
    assert.equal(double.unauthenticated, 1);
    assert.equal(double.lastCaller, undefined);
    call.session.destroy();
  });
});
