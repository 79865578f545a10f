/**
 * Opens the gRPC channel to the Teleport Auth Service, either directly (`host:3025`)
 * or through a Proxy Service with TLS routing (`host:443`).
 *
 * TLS routing: the proxy reads the first ALPN protocol of our ClientHello,
 * `teleport-auth@<hex(cluster)>.teleport.cluster.local`, and forwards the raw TLS
 * bytes to the Auth Service, so the mutual TLS session is with Auth, end to end.
 * grpc-js hard-codes ALPN `["h2"]`, so we connect with our own ChannelCredentials
 * subclass (see TeleportChannelCredentials), on both paths.
 *
 * When routing is used: `TeleportConfig.clusterName` is set, or the port is 443 or
 * 3080 (the proxy's TLS-routing ports); otherwise we dial Auth directly. The cluster
 * name is `clusterName`, else read from the CA certificate (see clusterNameFromCa).
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import * as grpc from "@grpc/grpc-js";
import type { TeleportConfig } from "../config/types.ts";
import { BadParameterError } from "./errors.ts";
import { clusterNameFromCa, type TlsCredentials } from "./credentials.ts";

/** The DNS name on every Auth Service certificate, whatever address we dial. */
export const AUTH_SERVER_NAME = "teleport.cluster.local";
/**
 * The Teleport API version we speak, sent as `version` metadata on every call (the
 * server may reject clients older than its oldest supported version).
 */
export const API_VERSION = "17.0.0";

const DEFAULT_AUTH_PORT = 3025;
const TLS_ROUTING_PORTS = new Set([443, 3080]);

/**
 * Channel options. Keepalive 60 s matches Teleport's server period: pinging more
 * often earns a GOAWAY `too_many_pings`. The short idle timeout makes grpc-js close
 * a connection nobody uses before a server GOAWAY can reach it (Deno's http2 can
 * crash on a GOAWAY for an idle session); it never fires while the watch stream is
 * open, and that stream keeps the shared connection busy.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 180_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.client_idle_timeout_ms": 5_000,
  // Go's client uses MaxDelay 2 s; a low first delay lets a restarted server be found fast.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
  "grpc.default_authority": AUTH_SERVER_NAME,
};

export interface DialPlan {
  /** grpc-js target, host:port. */
  target: string;
  /** Cluster name for ALPN routing; undefined for a direct dial. */
  routeToCluster?: string;
}

export function parseAddress(addr: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(addr.trim());
  if (!match) throw new BadParameterError(`invalid Teleport address "${addr}": want host:port`);
  const port = match[3] ? Number(match[3]) : DEFAULT_AUTH_PORT;
  if (port < 1 || port > 65535) throw new BadParameterError(`invalid port in Teleport address "${addr}"`);
  return { host: match[1] ?? match[2], port };
}

export function planDial(config: TeleportConfig, credentials: TlsCredentials): DialPlan {
  const { host, port } = parseAddress(config.addr);
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const useRouting = Boolean(config.clusterName) || TLS_ROUTING_PORTS.has(port);
  if (!useRouting) return { target };
  return { target, routeToCluster: config.clusterName || clusterNameFromCa(credentials) };
}

/** ALPN protocol the proxy routes to this cluster's Auth Service. */
export function authAlpnProtocol(clusterName: string): string {
  return `teleport-auth@${Buffer.from(clusterName, "utf8").toString("hex")}.${AUTH_SERVER_NAME}`;
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

  constructor(credentials: TlsCredentials, readonly alpnProtocols: string[]) {
    super();
    this.#context = secureContextOf(credentials);
  }

  /** Connections opened from now on present these credentials; open ones keep theirs. */
  update(credentials: TlsCredentials): void {
    this.#context = secureContextOf(credentials);
  }

  _isSecure(): boolean {
    return true;
  }

  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

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
      const tlsSocket = tls.connect({
        socket,
        secureContext: this.#context,
        servername: AUTH_SERVER_NAME,
        ALPNProtocols: this.alpnProtocols,
      }, () => {
        if (!tlsSocket.authorized) reject(tlsSocket.authorizationError);
        else if (tlsSocket.alpnProtocol !== "h2") reject(new Error("the server did not negotiate h2"));
        else resolve({ socket: tlsSocket, secure: true });
      });
      tlsSocket.on("error", reject);
    });
  }
}

function secureContextOf(credentials: TlsCredentials): tls.SecureContext {
  return tls.createSecureContext({
    ca: credentials.rootCas,
    key: credentials.privateKey,
    cert: credentials.certChain,
  });
}

/** The ALPN list for a plan: the routing protocol first when going through a proxy. */
export function alpnProtocols(plan: DialPlan): string[] {
  return plan.routeToCluster === undefined ? ["h2"] : [authAlpnProtocol(plan.routeToCluster), "h2"];
}

/** Creates the (lazily connecting) gRPC client for the plan. */
export function dialAuth(plan: DialPlan, channelCredentials: TeleportChannelCredentials): grpc.Client {
  return new grpc.Client(plan.target, channelCredentials, CHANNEL_OPTIONS);
}

/** Call metadata every request carries. */
export function callMetadata(options: { waitForReady?: boolean } = {}): grpc.Metadata {
  // waitForReady must be a Metadata option in grpc-js; CallOptions silently ignores it.
  const metadata = new grpc.Metadata(options.waitForReady ? { waitForReady: true } : undefined);
  metadata.set("version", API_VERSION);
  return metadata;
}
