/**
 * Startup: wait for the Auth Service for a bounded time, then give up with one line.
 *
 * Under systemd (`Restart=on-failure`) or Kubernetes a plugin that starts before
 * Teleport, or during an Auth restart, should not crash-loop: connection problems are
 * retried with backoff (1 s doubling to 10 s, each attempt's cause logged) for up to
 * STARTUP_RETRY_BUDGET_MS, then the plugin exits 1. With TELEPORT_PLUGIN_FAIL_FAST=true
 * the first failure is fatal (the supervisor restarts the process). Problems retrying
 * cannot fix (an old server, a refused identity, unreadable credentials) are fatal at once.
 */
import { type BackoffBounds, sleep } from "../ops/backoff.ts";
import { getLog } from "../ops/logging.ts";
import type { TeleportClient } from "./client.ts";
import { TeleportUnreachableError } from "./connection.ts";
import { ConnectionProblemError } from "./errors.ts";
import type { PingInfo } from "./types.ts";

const log = getLog("teleport");

/** How long startup keeps trying to reach the Auth Service. */
export const STARTUP_RETRY_BUDGET_MS = 60_000;
const STARTUP_BACKOFF: BackoffBounds = { baseMs: 1_000, capMs: 10_000 };

export interface StartupOptions {
  /** TELEPORT_PLUGIN_FAIL_FAST: the first failure is fatal. */
  failFast: boolean;
  /** Shutdown: stop retrying. */
  signal?: AbortSignal;
  /** Total time to keep retrying (default STARTUP_RETRY_BUDGET_MS). */
  budgetMs?: number;
  /** Time source and pause (tests use a virtual clock). */
  clock?: { now(): number; sleep(ms: number, signal?: AbortSignal): Promise<void> };
}

/** Teleport stayed unreachable for the whole startup budget (or at once, with fail fast). */
export class TeleportStartupError extends ConnectionProblemError {
  override name = "TeleportUnreachable";
}

/** Pings until the Auth Service answers (see the header for the retry rules). */
export async function pingUntilReachable(client: TeleportClient, options: StartupOptions): Promise<PingInfo> {
  const clock = options.clock ?? { now: () => Date.now(), sleep };
  const budgetMs = options.budgetMs ?? STARTUP_RETRY_BUDGET_MS;
  const started = clock.now();
  let delayMs = STARTUP_BACKOFF.baseMs;
  for (let attempt = 1;; attempt++) {
    try {
      return await client.ping();
    } catch (error) {
      if (!(error instanceof ConnectionProblemError)) throw error;
      const line = describeConnectionFailure(error);
      const elapsedMs = clock.now() - started;
      if (options.failFast) {
        throw new TeleportStartupError(`${line} (TELEPORT_PLUGIN_FAIL_FAST is set: not retrying)`);
      }
      if (elapsedMs + delayMs > budgetMs || options.signal?.aborted) {
        throw new TeleportStartupError(
          `${line} (gave up after ${attempt} attempts in ${Math.round(elapsedMs / 1000)} s)`,
        );
      }
      log.warn("Teleport is not reachable yet (attempt {attempt}, retrying in {delay} s): {error}", {
        attempt,
        delay: delayMs / 1000,
        error: line,
      });
      try {
        await clock.sleep(delayMs, options.signal);
      } catch {
        throw new TeleportStartupError(`${line} (stopped waiting: shutdown requested)`);
      }
      delayMs = Math.min(STARTUP_BACKOFF.capMs, delayMs * 2);
    }
  }
}

/** One line for a failed connection: what failed, where, the likely cause and the key to check. */
export function describeConnectionFailure(error: unknown): string {
  if (error instanceof TeleportUnreachableError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `Teleport Auth Service call failed: ${message}; check teleport.addr`;
}
