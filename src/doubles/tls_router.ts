/**
 * A stand-in for a Teleport Proxy's TLS routing listener: it reads the TLS
 * ClientHello, requires the first ALPN protocol to be
 * `teleport-auth@<hex(cluster)>.teleport.cluster.local` (anything else, including
 * the bare `teleport.cluster.local`, drops the connection, as the real proxy does),
 * then forwards the raw bytes to the Auth listener so TLS is end to end.
 */
import { Buffer } from "node:buffer";
import * as net from "node:net";

export interface TlsRouter {
  /** host:port clients dial. */
  readonly addr: string;
  readonly port: number;
  /** Connections forwarded to the Auth listener / dropped for a bad ALPN. */
  readonly routedConnections: number;
  readonly rejectedConnections: number;
  /** The ALPN lists seen, in arrival order. */
  readonly alpnSeen: string[][];
  close(): Promise<void>;
}

export interface TlsRouterOptions {
  clusterName: string;
  /** The Auth listener's port, read per connection (it is stable across restarts). */
  backendPort: () => number;
}

const TLS_HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const ALPN_EXTENSION = 0x0010;

/** Reads big-endian fields off a buffer, throwing RangeError past its end. */
class Cursor {
  constructor(private readonly buf: Buffer, public pos = 0) {}
  u8(): number {
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    const value = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return value;
  }
  skip(count: number): void {
    if (this.pos + count > this.buf.length) throw new RangeError("truncated ClientHello");
    this.pos += count;
  }
  take(count: number): Buffer {
    this.skip(count);
    return this.buf.subarray(this.pos - count, this.pos);
  }
}

/** The full first TLS record, or undefined if more bytes are needed. */
function firstRecord(data: Buffer): Buffer | undefined {
  if (data.length < 5) return undefined;
  const length = data.readUInt16BE(3);
  return data.length >= 5 + length ? data.subarray(5, 5 + length) : undefined;
}

/** ALPN protocol names offered in a ClientHello record body. */
export function alpnFromClientHello(record: Buffer): string[] {
  const hello = new Cursor(record);
  if (hello.u8() !== CLIENT_HELLO) throw new Error("not a ClientHello");
  hello.skip(3 + 2 + 32); // handshake length, client_version, random
  hello.skip(hello.u8()); // session id
  hello.skip(hello.u16()); // cipher suites
  hello.skip(hello.u8()); // compression methods
  const extensionsEnd = hello.u16() + hello.pos;
  while (hello.pos < extensionsEnd) {
    const type = hello.u16();
    const body = hello.take(hello.u16());
    if (type === ALPN_EXTENSION) return parseAlpnList(body);
  }
  return [];
}

function parseAlpnList(body: Buffer): string[] {
  const list = new Cursor(body);
  const end = list.u16() + 2;
  const names: string[] = [];
  while (list.pos < end) names.push(list.take(list.u8()).toString("latin1"));
  return names;
}

export function startTlsRouter(options: TlsRouterOptions): Promise<TlsRouter> {
  const expectedAlpn = `teleport-auth@${
    Buffer.from(options.clusterName).toString("hex")
  }.teleport.cluster.local`;
  const sockets = new Set<net.Socket>();
  const stats = { routed: 0, rejected: 0, alpnSeen: [] as string[][] };

  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };

  const route = (client: net.Socket, hello: Buffer) => {
    const backend = net.connect(options.backendPort(), "127.0.0.1");
    track(backend);
    backend.write(hello);
    client.pipe(backend);
    backend.pipe(client);
    client.on("close", () => backend.destroy());
    backend.on("close", () => client.destroy());
  };

  const server = net.createServer((client) => {
    track(client);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered[0] !== TLS_HANDSHAKE_RECORD) return reject();
      const record = firstRecord(buffered);
      if (!record) return;
      client.off("data", onData);
      client.pause();
      let alpn: string[];
      try {
        alpn = alpnFromClientHello(record);
      } catch {
        return reject();
      }
      stats.alpnSeen.push(alpn);
      if (alpn[0] !== expectedAlpn) return reject();
      stats.routed++;
      route(client, buffered);
      client.resume();
    };
    const reject = () => {
      stats.rejected++;
      client.destroy();
    };
    client.on("data", onData);
  });

  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        addr: `127.0.0.1:${port}`,
        port,
        get routedConnections() {
          return stats.routed;
        },
        get rejectedConnections() {
          return stats.rejected;
        },
        alpnSeen: stats.alpnSeen,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
