/**
 * A resilient watch: one WatchEvents stream at a time, reopened after every end or
 * connection error with decorrelated jitter (20 ms .. 5 s), as Teleport's
 * watcherjob does. Each successful (re)connect starts with the server's INIT,
 * which we pass on: it is the core's signal to reconcile, since events that
 * happened while disconnected are never replayed.
 */
import type { ClientReadableStream } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { Event } from "./gen/teleport/legacy/client/proto/event_pb.ts";
import { Operation } from "./gen/teleport/legacy/client/proto/event_pb.ts";
import { DecorrelatedBackoff, sleep } from "../ops/backoff.ts";
import { eventFromWire } from "./codec.ts";
import { ConnectionProblemError, fromGrpcError, TeleportError } from "./errors.ts";
import type { WatchEvent } from "../core/types.ts";
import { getLog } from "../ops/logging.ts";

const log = getLog("teleport");

export interface WatcherTiming {
  /** Teleport's watcherjob gives up on a stream whose INIT takes longer than 15 s. */
  initTimeoutMs: number;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  /**
   * End the watch with an error instead of reconnecting (TELEPORT_PLUGIN_FAIL_FAST,
   * which the upstream Helm charts set so Kubernetes restarts the pod).
   */
  failFast: boolean;
}

export const DEFAULT_WATCHER_TIMING: WatcherTiming = {
  initTimeoutMs: 15_000,
  reconnectBaseMs: 20,
  reconnectCapMs: 5_000,
  failFast: false,
};

/** Opens one WatchEvents stream for the kinds. */
export type OpenWatchStream = (kinds: string[]) => ClientReadableStream<Event>;

/**
 * Errors that reconnecting cannot fix (no permission, bad kinds, server without
 * the RPC) end the watch; anything else is treated as a connection problem.
 */
const FATAL_CODES = new Set([
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.INVALID_ARGUMENT,
  status.UNIMPLEMENTED,
]);

function isFatal(error: unknown): boolean {
  return error instanceof TeleportError && error.grpcCode !== undefined && FATAL_CODES.has(error.grpcCode);
}

export async function* watchWithReconnect(
  open: OpenWatchStream,
  kinds: string[],
  signal: AbortSignal,
  timing: WatcherTiming = DEFAULT_WATCHER_TIMING,
): AsyncGenerator<WatchEvent> {
  const backoff = new DecorrelatedBackoff(timing.reconnectBaseMs, timing.reconnectCapMs);
  while (!signal.aborted) {
    try {
      for await (const event of watchOnce(open, kinds, signal, timing.initTimeoutMs)) {
        if (event.type === "init") backoff.reset();
        yield event;
      }
      if (signal.aborted) return;
      if (timing.failFast) throw new ConnectionProblemError("Teleport watch stream ended (fail fast)");
      log.info("Teleport watch stream ended; reconnecting");
      yield { type: "lost", reason: "the watch stream ended" };
    } catch (error) {
      if (signal.aborted) return;
      if (isFatal(error) || timing.failFast) throw error;
      const reason = (error as Error).message;
      log.warn("Teleport watch stream failed; reconnecting: {error}", { error: reason });
      yield { type: "lost", reason };
    }
    // Shutdown during the pause just ends the loop.
    await sleep(backoff.next(), signal).catch(() => {});
  }
}

/** One stream's events; throws ConnectionProblemError if INIT does not come in time. */
async function* watchOnce(
  open: OpenWatchStream,
  kinds: string[],
  signal: AbortSignal,
  initTimeoutMs: number,
): AsyncGenerator<WatchEvent> {
  const stream = open(kinds);
  const cancel = () => stream.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  let initTimedOut = false;
  const initTimer = setTimeout(() => {
    initTimedOut = true;
    stream.cancel();
  }, initTimeoutMs);
  try {
    let initialized = false;
    for await (const event of stream as AsyncIterable<Event>) {
      if (!initialized) {
        if (event.Type !== Operation.INIT) {
          throw new ConnectionProblemError("watch stream did not start with INIT");
        }
        clearTimeout(initTimer);
        initialized = true;
      }
      const domainEvent = eventFromWire(event);
      if (domainEvent) yield domainEvent;
    }
  } catch (error) {
    if (initTimedOut) {
      throw new ConnectionProblemError(`no INIT event within ${initTimeoutMs} ms`, status.DEADLINE_EXCEEDED);
    }
    throw fromGrpcError(error);
  } finally {
    clearTimeout(initTimer);
    signal.removeEventListener("abort", cancel);
    stream.cancel();
  }
}
