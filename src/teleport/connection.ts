/**
 * Picks the route to the Auth Service and owns the channels on it.
 *
 * The first call tries the routes of `teleport.dial_mode` with a Ping each (bounded by
 * `probeTimeoutMs`; in order, overlapping after a 1 s head start) and keeps the first
 * that answers; the others are closed. When none answers, each route's failure is diagnosed (diagnose.ts) and one
 * TeleportUnreachableError says what failed, where, and which key to check. Nothing is
 * cached after a failure: the next call tries again.
 */
import * as grpc from "@grpc/grpc-js";
import type { MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { TeleportConfig } from "../config/types.ts";
import {
  PingRequestSchema,
  type PingResponseSchema,
} from "./gen/teleport/legacy/client/proto/authservice_pb.ts";
import type { TlsCredentials } from "./credentials.ts";
import {
  callMetadata,
  describeRoute,
  type DialRoute,
  dialRoutes,
  TeleportChannelCredentials,
} from "./dial.ts";
import { type Channels, type ChannelStrategy, newChannel, openChannels, unaryOptions } from "./channels.ts";
import { diagnoseRoute, type Diagnosis, type FailureCause } from "./diagnose.ts";
import { ConnectionProblemError, fromGrpcError } from "./errors.ts";
import { rpcMethod } from "./rpc.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("teleport");
const PING = rpcMethod("ping");
/** The head start each route gets before the next one is tried in parallel. */
const PROBE_STAGGER_MS = 1_000;
type PingResponse = MessageShape<typeof PingResponseSchema>;

/** One route's failure. */
export interface RouteFailure extends Diagnosis {
  route: DialRoute;
}

/** What the operator reads: the likely cause, in words. */
const CAUSE_TEXT: Record<FailureCause, string> = {
  dns: "the host name does not resolve (DNS)",
  refused: "connection refused (nothing listens there)",
  unreachable: "the network cannot reach the host",
  timeout: "no answer in time (a firewall, or the wrong host)",
  "not-tls": "not a TLS endpoint",
  "handshake-closed": "the server dropped the connection in the TLS handshake",
  "server-certificate": "the server's certificate was rejected (not signed by the configured CA)",
  "client-certificate": "the server rejected the plugin's client certificate",
  "not-teleport": "not a Teleport Auth Service endpoint",
  unknown: "connection failed",
};

/** The Auth Service could not be reached on any route; the message is the one line to log. */
export class TeleportUnreachableError extends ConnectionProblemError {
  constructor(readonly addr: string, readonly failures: RouteFailure[], readonly credentialKeys: string) {
    super(formatUnreachable(addr, failures, credentialKeys), grpc.status.UNAVAILABLE);
  }
}

/** "Cannot reach the Teleport Auth Service at A (tried …): cause (detail); check keys". */
function formatUnreachable(addr: string, failures: RouteFailure[], credentialKeys: string): string {
  const causes = new Set(failures.map((f) => f.cause));
  const keys = new Set<string>();
  for (const { cause, route } of failures) {
    if (cause === "server-certificate" || cause === "client-certificate") keys.add(credentialKeys);
    else if (cause === "handshake-closed" && route.kind === "tls-routing") {
      keys.add("teleport.addr").add("teleport.cluster_name");
    } else keys.add("teleport.addr");
  }
  const what = (f: RouteFailure) => `${CAUSE_TEXT[f.cause]}: ${f.detail}`;
  const body = causes.size === 1
    ? `(tried ${failures.map((f) => describeRoute(f.route)).join(" and ")}): ${what(failures[0])}`
    : `(${failures.map((f) => `${describeRoute(f.route)}: ${what(f)}`).join("; ")})`;
  return `Cannot reach the Teleport Auth Service at ${addr} ${body}; check ${[...keys].join(", ")}`;
}

/** The config keys that hold the client credentials. */
export function credentialKeysOf(config: TeleportConfig): string {
  return config.identity
    ? "teleport.identity"
    : "teleport.client_crt, teleport.client_key, teleport.root_cas";
}

/** Statuses that mean the route never reached a gRPC server. */
function isTransportFailure(error: grpc.ServiceError): boolean {
  return error.code === grpc.status.UNAVAILABLE || error.code === grpc.status.DEADLINE_EXCEEDED ||
    /Received HTTP status code|content-type|Protocol error/i.test(error.details ?? "");
}

type ProbeOutcome =
  | { route: DialRoute; channel: grpc.Client; response: PingResponse }
  | { route: DialRoute; channel: grpc.Client; answeredWith: grpc.ServiceError }
  | { route: DialRoute; channel: grpc.Client; failedWith: grpc.ServiceError };

export interface ConnectionOptions {
  strategy: ChannelStrategy;
  /** Bound for each route's probe (Ping), milliseconds. */
  probeTimeoutMs: number;
}

/** The selected route's channels, chosen on first use. */
export class Connection {
  readonly #routes: DialRoute[];
  readonly #credentials: Map<DialRoute, TeleportChannelCredentials>;
  #channels: Channels | undefined;
  #selecting: Promise<Channels> | undefined;
  /** The probe's Ping answer, handed to the first ping() so startup pings once. */
  #probeResponse: PingResponse | undefined;
  #closed = false;
  /** The route in use, once one answered. */
  route: DialRoute | undefined;
  /** Why the latest route selection failed (for callers that cannot wait for it). */
  lastFailure: unknown;

  constructor(
    readonly config: TeleportConfig,
    credentials: TlsCredentials,
    readonly options: ConnectionOptions,
  ) {
    this.#routes = dialRoutes(config, credentials);
    this.#credentials = new Map(this.#routes.map((r) => [r, new TeleportChannelCredentials(credentials, r)]));
  }

  /** The channels, if a route has been selected. */
  current(): Channels | undefined {
    return this.#channels;
  }

  /** The channels of the selected route, probing the routes first if none is selected yet. */
  channels(): Promise<Channels> {
    if (this.#channels) return Promise.resolve(this.#channels);
    this.#selecting ??= this.#select()
      .catch((error) => {
        this.lastFailure = error;
        throw error;
      })
      .finally(() => this.#selecting = undefined);
    return this.#selecting;
  }

  /** The Ping answer the winning probe got, once. */
  takeProbeResponse(): PingResponse | undefined {
    const response = this.#probeResponse;
    this.#probeResponse = undefined;
    return response;
  }

  /** New connections present these credentials (a refreshed identity file). */
  update(credentials: TlsCredentials): void {
    for (const channelCredentials of this.#credentials.values()) channelCredentials.update(credentials);
  }

  close(): void {
    this.#closed = true;
    this.#channels?.close();
    this.#channels = undefined;
  }

  async #select(): Promise<Channels> {
    const outcomes = await this.#probeAll();
    const winner = outcomes.find((o) => "response" in o) ?? outcomes.find((o) => "answeredWith" in o);
    for (const outcome of outcomes) if (outcome !== winner) outcome.channel.close();
    if (!winner) throw await this.#unreachable(outcomes);
    if (this.#closed) {
      winner.channel.close();
      throw new ConnectionProblemError("the Teleport client was closed");
    }
    const credentials = this.#credentials.get(winner.route)!;
    this.#channels = openChannels(this.options.strategy, winner.route.target, credentials, winner.channel);
    this.route = winner.route;
    if (this.#routes.length > 1) {
      log.info("Reached the Teleport Auth Service at {addr} {route}", {
        addr: this.config.addr,
        route: winner.route.kind === "direct"
          ? "directly"
          : `through TLS routing (${describeRoute(winner.route)})`,
      });
    }
    if ("answeredWith" in winner) throw fromGrpcError(winner.answeredWith);
    this.#probeResponse = winner.response;
    return this.#channels;
  }

  /**
   * Pings the routes in order, starting the next one when the previous has failed or has
   * not answered within PROBE_STAGGER_MS ("happy eyeballs"): a direct Auth Service costs
   * one Ping, a black-holed route does not hold the next one back. Resolves when one
   * answers OK or all have settled.
   */
  #probeAll(): Promise<ProbeOutcome[]> {
    return new Promise((resolve) => {
      const outcomes: ProbeOutcome[] = [];
      let settled = false;
      let started = 0;
      let stagger: ReturnType<typeof setTimeout> | undefined;
      const startNext = () => {
        clearTimeout(stagger);
        if (settled || started === this.#routes.length) return;
        const route = this.#routes[started++];
        stagger = setTimeout(startNext, PROBE_STAGGER_MS);
        this.#probe(route).then((outcome) => {
          if (settled) return outcome.channel.close();
          outcomes.push(outcome);
          if ("response" in outcome || outcomes.length === this.#routes.length) {
            settled = true;
            clearTimeout(stagger);
            resolve(outcomes);
          } else startNext();
        });
      };
      startNext();
    });
  }

  #probe(route: DialRoute): Promise<ProbeOutcome> {
    const channel = newChannel(
      route.target,
      this.#credentials.get(route)!,
      unaryOptions(this.options.strategy),
    );
    return new Promise((resolve) => {
      channel.makeUnaryRequest(
        PING.path,
        PING.serialize,
        PING.deserialize,
        create(PingRequestSchema),
        callMetadata(),
        { deadline: new Date(Date.now() + this.options.probeTimeoutMs) },
        (error, response) => {
          if (!error && response) resolve({ route, channel, response });
          else if (error && !isTransportFailure(error)) resolve({ route, channel, answeredWith: error });
          else resolve({ route, channel, failedWith: error! });
        },
      );
    });
  }

  async #unreachable(outcomes: ProbeOutcome[]): Promise<TeleportUnreachableError> {
    const failures = await Promise.all(this.#routes.map(async (route): Promise<RouteFailure> => {
      const outcome = outcomes.find((o) => o.route === route);
      const diagnosis = await diagnoseRoute(
        route,
        this.#credentials.get(route)!.context,
        this.options.probeTimeoutMs,
      );
      const grpcText = outcome && "failedWith" in outcome ? outcome.failedWith.details : undefined;
      // A step-by-step dial that succeeds means the gRPC layer failed: say what it said.
      if (diagnosis.cause === "not-teleport" && outcome && "failedWith" in outcome) {
        if (outcome.failedWith.code === grpc.status.DEADLINE_EXCEEDED) {
          const seconds = this.options.probeTimeoutMs / 1000;
          return {
            route,
            cause: "timeout",
            detail: `TLS and HTTP/2 work, but Ping got no answer within ${seconds}s`,
          };
        }
        if (grpcText && /HTTP status|content-type/i.test(grpcText)) {
          return { route, cause: "not-teleport", detail: grpcText };
        }
      }
      return { route, ...diagnosis };
    }));
    return new TeleportUnreachableError(this.config.addr, failures, credentialKeysOf(this.config));
  }
}
