/**
 * Why a route to the Auth Service failed, found by redoing the connection step by step
 * (DNS, TCP, TLS, HTTP/2) instead of parsing grpc-js's "No connection established"
 * text. Runs only after a failed dial, so its cost does not matter.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import * as net from "node:net";
import * as tls from "node:tls";
import { Buffer } from "node:buffer";
import { type DialRoute, parseAddress, tlsOptionsFor } from "./dial.ts";

/** The likely cause of a failed dial. */
export type FailureCause =
  | "dns"
  | "refused"
  | "unreachable"
  | "timeout"
  | "not-tls"
  | "handshake-closed"
  | "server-certificate"
  | "client-certificate"
  | "not-teleport"
  | "unknown";

export interface Diagnosis {
  cause: FailureCause;
  /** The error text behind the cause (an errno code, a TLS alert), for the log line. */
  detail: string;
}

/** The first bytes of an HTTP/2 connection: the preface and an empty SETTINGS frame. */
const H2_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);
const H2_SETTINGS = 4;

/** Server-certificate verification failures (Node's codes; Deno maps rustls errors to these). */
const SERVER_CERT_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** Redoes the dial of `route` one step at a time and names the step that fails. */
export async function diagnoseRoute(
  route: DialRoute,
  context: tls.SecureContext,
  timeoutMs: number,
): Promise<Diagnosis> {
  const { host, port } = parseAddress(route.target);
  let address = host;
  if (!isIP(host)) {
    try {
      address = (await withTimeout(lookup(host), timeoutMs, "DNS lookup")).address;
    } catch (error) {
      return errorCode(error) === "TIMEOUT"
        ? { cause: "timeout", detail: `DNS lookup of ${host} took over ${timeoutMs / 1000}s` }
        : { cause: "dns", detail: `${errorCode(error) ?? "lookup failed"} for ${host}` };
    }
  }
  const socket = await tcpConnect(address, port, timeoutMs);
  if ("cause" in socket) return socket;
  return await tlsAndHttp2(socket, route, context, timeoutMs);
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<net.Socket | Diagnosis> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ cause: "timeout", detail: `no TCP answer within ${timeoutMs / 1000}s` });
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      const code = errorCode(error) ?? error.message;
      resolve({ cause: code === "ECONNREFUSED" ? "refused" : "unreachable", detail: code });
    });
  });
}

/** TLS as grpc-js would do it, then the HTTP/2 preface: a server that rejects our certificate says so here. */
function tlsAndHttp2(
  socket: net.Socket,
  route: DialRoute,
  context: tls.SecureContext,
  timeoutMs: number,
): Promise<Diagnosis> {
  return new Promise((resolve) => {
    let handshakeDone = false;
    const done = (diagnosis: Diagnosis) => {
      clearTimeout(timer);
      tlsSocket.destroy();
      socket.destroy();
      resolve(diagnosis);
    };
    const tlsSocket = tls.connect({ socket, ...tlsOptionsFor(context, route) }, () => {
      handshakeDone = true;
      if (!tlsSocket.authorized) {
        return done({ cause: "server-certificate", detail: String(tlsSocket.authorizationError) });
      }
      if (tlsSocket.alpnProtocol !== "h2") {
        return done({ cause: "not-teleport", detail: "the server does not speak HTTP/2 (ALPN h2)" });
      }
      tlsSocket.write(H2_PREFACE);
    });
    const timer = setTimeout(() => {
      done(
        handshakeDone
          ? { cause: "not-teleport", detail: `no HTTP/2 answer within ${timeoutMs / 1000}s` }
          : { cause: "timeout", detail: `TLS handshake did not finish within ${timeoutMs / 1000}s` },
      );
    }, timeoutMs);
    let received = Buffer.alloc(0);
    tlsSocket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 9) return;
      // A server SETTINGS frame: TLS (with our certificate) and HTTP/2 are fine.
      done(
        received[3] === H2_SETTINGS
          ? { cause: "not-teleport", detail: "TLS and HTTP/2 work, but the gRPC Ping did not" }
          : { cause: "not-teleport", detail: "the server does not speak HTTP/2" },
      );
    });
    tlsSocket.on("error", (error: Error) => done(classifyTlsError(error, handshakeDone)));
    tlsSocket.on("close", () => {
      done({
        cause: handshakeDone ? "client-certificate" : "handshake-closed",
        detail: handshakeDone ? "connection closed after the handshake" : "connection closed",
      });
    });
  });
}

function classifyTlsError(error: Error, handshakeDone: boolean): Diagnosis {
  const code = errorCode(error);
  const text = error.message;
  if (
    (code && SERVER_CERT_CODES.has(code)) || /invalid peer certificate|certificate verify failed/i.test(text)
  ) {
    return { cause: "server-certificate", detail: text };
  }
  if (/NoApplicationProtocol|no.application.protocol/i.test(text)) {
    return { cause: "not-teleport", detail: "the server does not speak HTTP/2 (ALPN h2)" };
  }
  if (/alert|certificate/i.test(text) || handshakeDone) return { cause: "client-certificate", detail: text };
  if (/wrong version|InvalidContentType|CorruptMessage|packet length|record/i.test(text)) {
    return { cause: "not-tls", detail: text };
  }
  if (code === "ECONNRESET" || code === "EPIPE") {
    return { cause: "handshake-closed", detail: code };
  }
  return { cause: "unknown", detail: text };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" ? code : undefined;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out`), { code: "TIMEOUT" })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
