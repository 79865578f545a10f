/**
 * How the client spreads its calls over HTTP/2 connections: the choice that decides
 * whether the process survives Deno's nghttp2 abort when a server GOAWAY reaches a
 * connection in a certain idle state (denoland/deno#36788). bench/goaway.ts measures
 * each strategy; bench/RESULTS.md has the death rates behind the default.
 *
 * - shared (default): one channel for the watch and every unary call (5 s client idle
 *   timeout). The watch stream is open on that connection whenever a GOAWAY can come, and
 *   a session with an open stream survives it; this had the fewest deaths.
 * - split-idle: the watch on its own channel; unary calls on a second channel that
 *   grpc-js closes after 1 s without calls (`grpc.client_idle_timeout_ms`).
 * - split-close: the watch on its own channel; unary calls on a channel the client
 *   itself closes once no call has been in flight for UNARY_IDLE_CLOSE_MS, and
 *   re-creates on the next call. No connection without a call outlives that window.
 * - keepalive: one shared channel with HTTP/2 keepalive pings every 10 s. Not usable
 *   against a real Auth Service, which answers pings more often than once a minute
 *   with GOAWAY `too_many_pings`; measured for comparison only.
 */
import * as grpc from "@grpc/grpc-js";
import { AUTH_SERVER_NAME, type TeleportChannelCredentials } from "./dial.ts";

/** How calls are spread over connections (see the header). */
export type ChannelStrategy = "shared" | "split-idle" | "split-close" | "keepalive";
/** Every strategy, in the order bench/goaway.ts reports them. */
export const CHANNEL_STRATEGIES: readonly ChannelStrategy[] = [
  "shared",
  "split-idle",
  "split-close",
  "keepalive",
];
/** The strategy with the fewest deaths in bench/goaway.ts (see bench/RESULTS.md). */
export const DEFAULT_CHANNEL_STRATEGY: ChannelStrategy = "shared";

/** How long the split-close unary channel stays open after its last call ended. */
export const UNARY_IDLE_CLOSE_MS = 2_000;

/**
 * Base options. Keepalive 60 s matches Teleport's server period: pinging more often
 * earns a GOAWAY `too_many_pings`. A local subchannel pool keeps each channel on its
 * own connection (grpc-js otherwise shares one between channels with equal credentials).
 */
const BASE_OPTIONS: grpc.ChannelOptions = {
  "grpc.keepalive_time_ms": 60_000,
  "grpc.keepalive_timeout_ms": 180_000,
  "grpc.keepalive_permit_without_calls": 1,
  // Go's client uses MaxDelay 2 s; a low first delay lets a restarted server be found fast.
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2_000,
  "grpc.default_authority": AUTH_SERVER_NAME,
  "grpc.use_local_subchannel_pool": 1,
};

const OPTIONS: Record<"shared" | "watch" | "unaryIdle" | "unary" | "keepalive", grpc.ChannelOptions> = {
  shared: { ...BASE_OPTIONS, "grpc.client_idle_timeout_ms": 5_000 },
  // An open watch stream keeps its channel out of idle; a long timeout covers the pauses between streams.
  watch: { ...BASE_OPTIONS, "grpc.client_idle_timeout_ms": 30 * 60_000 },
  unaryIdle: { ...BASE_OPTIONS, "grpc.client_idle_timeout_ms": 1_000 },
  unary: { ...BASE_OPTIONS, "grpc.client_idle_timeout_ms": 30 * 60_000 },
  keepalive: {
    ...BASE_OPTIONS,
    "grpc.keepalive_time_ms": 10_000,
    "grpc.keepalive_timeout_ms": 5_000,
    "grpc.client_idle_timeout_ms": 5_000,
  },
};

/** The channels of one client. */
export interface Channels {
  /** The channel for a unary call; call `release()` when the call has ended. */
  acquireUnary(): grpc.Client;
  releaseUnary(): void;
  /** The channel for the watch stream. */
  watch(): grpc.Client;
  close(): void;
}

/** The grpc-js options a strategy's first (unary or shared) channel uses. */
export function unaryOptions(strategy: ChannelStrategy): grpc.ChannelOptions {
  switch (strategy) {
    case "shared":
      return OPTIONS.shared;
    case "keepalive":
      return OPTIONS.keepalive;
    case "split-idle":
      return OPTIONS.unaryIdle;
    case "split-close":
      return OPTIONS.unary;
  }
}

/** Creates a channel to `target` with the given options. */
export function newChannel(
  target: string,
  credentials: TeleportChannelCredentials,
  options: grpc.ChannelOptions,
): grpc.Client {
  return new grpc.Client(target, credentials, options);
}

/** The channels for `strategy`; `first` (already connected, e.g. by route probing) is adopted for unary calls. */
export function openChannels(
  strategy: ChannelStrategy,
  target: string,
  credentials: TeleportChannelCredentials,
  first?: grpc.Client,
): Channels {
  const unary = first ?? newChannel(target, credentials, unaryOptions(strategy));
  if (strategy === "shared" || strategy === "keepalive") return sharedChannels(unary);
  const watch = newChannel(target, credentials, OPTIONS.watch);
  if (strategy === "split-idle") {
    return {
      ...sharedChannels(unary),
      watch: () => watch,
      close: closeAll(unary, watch),
    };
  }
  return new SelfClosingUnary(() => newChannel(target, credentials, OPTIONS.unary), unary, watch);
}

/** One channel for everything (also wraps a channel dialed by the caller). */
export function sharedChannels(channel: grpc.Client): Channels {
  return {
    acquireUnary: () => channel,
    releaseUnary: () => {},
    watch: () => channel,
    close: () => channel.close(),
  };
}

function closeAll(...channels: grpc.Client[]): () => void {
  return () => channels.forEach((channel) => channel.close());
}

/** split-close: the unary channel is closed by us after UNARY_IDLE_CLOSE_MS without calls. */
class SelfClosingUnary implements Channels {
  #unary: grpc.Client | undefined;
  #inFlight = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(
    private readonly create: () => grpc.Client,
    first: grpc.Client,
    private readonly watchChannel: grpc.Client,
  ) {
    this.#unary = first;
    this.#armIdleTimer();
  }

  acquireUnary(): grpc.Client {
    clearTimeout(this.#idleTimer);
    this.#inFlight++;
    this.#unary ??= this.create();
    return this.#unary;
  }

  releaseUnary(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) this.#armIdleTimer();
  }

  watch(): grpc.Client {
    return this.watchChannel;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#unary?.close();
    this.#unary = undefined;
    this.watchChannel.close();
  }

  #armIdleTimer(): void {
    if (this.#closed) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#inFlight > 0) return;
      this.#unary?.close();
      this.#unary = undefined;
    }, UNARY_IDLE_CLOSE_MS);
    // An idle-close timer alone must not keep the process alive.
    Deno.unrefTimer(this.#idleTimer);
  }
}
