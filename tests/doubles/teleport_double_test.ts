/**
 * The Teleport double's own contract where tests lean on it: the caller is read from the client
 * certificate when the call is handled, a call whose client has already gone by then is refused
 * UNAUTHENTICATED (the double never throws from a handler), and a graceful restart always completes.
 */
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as tls from "node:tls";
import { create, toBinary } from "@bufbuild/protobuf";
import { WatchSchema } from "../../src/teleport/gen/teleport/legacy/client/proto/authservice_pb.ts";
import { watchKindsToWire } from "../../src/teleport/codec.ts";
import { type CredentialPaths, TeleportDouble } from "../../src/doubles/teleport_double.ts";

/** One gRPC length-prefixed message. */
function frame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}

/** An empty PingRequest. */
const EMPTY_MESSAGE = frame(new Uint8Array());
const WATCH_ACCESS_REQUESTS = frame(
  toBinary(WatchSchema, create(WatchSchema, { Kinds: watchKindsToWire(["access_request"]) })),
);

interface RawCall {
  socket: tls.TLSSocket;
  session: http2.ClientHttp2Session;
  /** The `grpc-status` trailer, or undefined when the stream ended without one. */
  status: Promise<string | undefined>;
}

/** A call (a Ping unless told) over its own mTLS connection, so the test can cut exactly that connection. */
function rawCall(
  double: TeleportDouble,
  creds: CredentialPaths,
  method = "Ping",
  message = EMPTY_MESSAGE,
): RawCall {
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
    ":path": `/proto.AuthService/${method}`,
    "content-type": "application/grpc",
    te: "trailers",
  });
  const status = new Promise<string | undefined>((resolve) => {
    stream.on("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
    stream.on("close", () => resolve(undefined));
    stream.on("error", () => resolve(undefined));
  });
  stream.resume();
  stream.end(message);
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
    const call = rawCall(double, creds);
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
    const call = rawCall(double, creds);
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

Deno.test("a watch handled while a graceful restart waits for open calls is ended, so the restart completes", async () => {
  await withDouble(async (double, creds) => {
    const hold = double.holdCalls();
    const watch = rawCall(double, creds, "WatchEvents", WATCH_ACCESS_REQUESTS);
    await hold.arrived;
    // The stream is open before the GOAWAY; its handler runs only after the watchers were ended.
    const restarted = double.restart({ graceful: true });
    await hold.release();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the graceful restart never completed")), 10_000);
    });
    try {
      await Promise.race([restarted, stuck]);
    } finally {
      clearTimeout(timer);
    }
    await watch.status; // the stream ended (the client may see the session close before the trailers)
    assert.equal(double.watcherCount, 0);
    watch.session.destroy();
  });
});
