/**
 * The ways to reach the Teleport Auth Service, and the TLS credentials each uses.
 *
 * - direct: TLS to `addr` (the Auth Service, usually :3025), ALPN `h2`.
 * - tls-routing: TLS to a Proxy Service, ALPN `teleport-auth@<hex(cluster)>.teleport.cluster.local`
 *   first, then `h2`. The proxy reads the first ALPN protocol of our ClientHello and forwards
 *   the raw TLS bytes to the Auth Service, so the mutual TLS session is with Auth, end to end.
 *
 * The port does not decide (a Proxy may listen on any port behind a load balancer): in the
 * default `dial_mode = "auto"` both routes are tried and the one that answers Ping is kept
 * (see connection.ts), as the Go client races its connectors. grpc-js hard-codes ALPN
 * `["h2"]`, so both routes connect with our own ChannelCredentials subclass
 * (TeleportChannelCredentials). The cluster name for routing is `cluster_name`, else read
 * from the CA certificate (see clusterNameFromCa).
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import type { DialMode, TeleportConfig } from "../config/types.ts";
import { BadParameterError, CredentialsError } from "./errors.ts";
import { clusterNameFromCa, type TlsCredentials } from "./credentials.ts";

/** The DNS name on every Auth Service certificate, whatever address we dial. */
export const AUTH_SERVER_NAME = "teleport.cluster.local";
/**
 * The Teleport API version we speak, sent as `version` metadata on every call (the
 * server may reject clients older than its oldest supported version).
 */
export const API_VERSION = "17.0.0";

const DEFAULT_AUTH_PORT = 3025;

/** One way to reach the Auth Service. */
export interface DialRoute {
  kind: "direct" | "tls-routing";
  /** grpc-js target, host:port. */
  target: string;
  /** Cluster name for ALPN routing; set only for tls-routing. */
  routeToCluster?: string;
}

/** Splits `host[:port]` (IPv6 in brackets), defaulting the port to 3025. */
export function parseAddress(addr: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(addr.trim());
  if (!match) throw new BadParameterError(`invalid Teleport address "${addr}": want host:port`);
  const port = match[3] ? Number(match[3]) : DEFAULT_AUTH_PORT;
  if (port < 1 || port > 65535) throw new BadParameterError(`invalid port in Teleport address "${addr}"`);
  return { host: match[1] ?? match[2], port };
}

/**
 * The routes to try for `teleport.dial_mode` (default auto: direct, then TLS routing when a
 * cluster name is known). Forcing tls-routing without a readable cluster name is an error.
 */
export function dialRoutes(config: TeleportConfig, credentials: TlsCredentials): DialRoute[] {
  const { host, port } = parseAddress(config.addr);
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const mode: DialMode = config.dialMode ?? "auto";
  const direct: DialRoute = { kind: "direct", target };
  if (mode === "direct") return [direct];
  let cluster: string;
  try {
    cluster = config.clusterName || clusterNameFromCa(credentials);
  } catch (error) {
    if (mode === "tls-routing" || !(error instanceof CredentialsError)) {
      throw new CredentialsError(
        `${(error as Error).message}; set teleport.cluster_name for TLS routing`,
        undefined,
        { cause: error },
      );
    }
    return [direct];
  }
  const routed: DialRoute = { kind: "tls-routing", target, routeToCluster: cluster };
  return mode === "tls-routing" ? [routed] : [direct, routed];
}

/** How a route reads in logs and errors: "direct" or "TLS routing (cluster c)". */
export function describeRoute(route: DialRoute): string {
  return route.kind === "direct" ? "direct" : `TLS routing for cluster "${route.routeToCluster}"`;
}

/** ALPN protocol the proxy routes to this cluster's Auth Service. */
export function authAlpnProtocol(clusterName: string): string {
  return `teleport-auth@${Buffer.from(clusterName, "utf8").toString("hex")}.${AUTH_SERVER_NAME}`;
}

/** The ALPN list for a route: the routing protocol first when going through a proxy. */
export function alpnProtocols(route: Pick<DialRoute, "routeToCluster">): string[] {
  return route.routeToCluster === undefined ? ["h2"] : [authAlpnProtocol(route.routeToCluster), "h2"];
}

/** The TLS options for one connection on `route` (also used by the failure diagnosis). */
export function tlsOptionsFor(context: tls.SecureContext, route: DialRoute): tls.ConnectionOptions {
  return { secureContext: context, servername: AUTH_SERVER_NAME, ALPNProtocols: alpnProtocols(route) };
}

/**
 * mTLS credentials that offer our own ALPN list (grpc-js only offers "h2"), always
 * verify the server as teleport.cluster.local, and can swap the client identity
 * for new connections (a refreshed identity file). Uses grpc-js's SecureConnector
 * interface (pinned version; tests/teleport/tls_routing_test.ts fails if an
 * upgrade changes it).
 */
export class TeleportChannelCredentials extends grpc.ChannelCredentials {
  #context: tls.SecureContext;

  constructor(credentials: TlsCredentials, readonly route: DialRoute) {
    super();
    this.#context = secureContextOf(credentials);
  }

  /** Connections opened from now on present these credentials; open ones keep theirs. */
  update(credentials: TlsCredentials): void {
    this.#context = secureContextOf(credentials);
  }

  /** The TLS context new connections use. */
  get context(): tls.SecureContext {
    return this.#context;
  }

  /** grpc-js: these credentials are TLS. */
  _isSecure(): boolean {
    return true;
  }

  /** grpc-js: channels share a connection only when their credentials are the same object. */
  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  /** grpc-js: the connector that turns a TCP socket into our TLS session. */
  _createSecureConnector(_target: unknown, _options: unknown, callCredentials?: grpc.CallCredentials) {
    const connect = (socket: Socket) => this.#connect(socket);
    return {
      connect,
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials ?? grpc.credentials.createEmpty(),
      destroy: () => {},
    };
  }

  #connect(socket: Socket): Promise<{ socket: Socket; secure: boolean }> {
    return new Promise((resolve, reject) => {
      const tlsSocket = tls.connect({ socket, ...tlsOptionsFor(this.#context, this.route) }, () => {
        if (!tlsSocket.authorized) reject(tlsSocket.authorizationError);
        else if (tlsSocket.alpnProtocol !== "h2") reject(new Error("the server did not negotiate h2"));
        else resolve({ socket: tlsSocket, secure: true });
      });
      tlsSocket.on("error", reject);
    });
  }
}

/** The client-side TLS context for a set of credentials. */
export function secureContextOf(credentials: TlsCredentials): tls.SecureContext {
  return tls.createSecureContext({
    ca: credentials.rootCas,
    key: credentials.privateKey,
    cert: credentials.certChain,
  });
}

/** Call metadata every request carries. */
export function callMetadata(options: { waitForReady?: boolean } = {}): grpc.Metadata {
  // waitForReady must be a Metadata option in grpc-js; CallOptions silently ignores it.
  const metadata = new grpc.Metadata(options.waitForReady ? { waitForReady: true } : undefined);
  metadata.set("version", API_VERSION);
  return metadata;
}
