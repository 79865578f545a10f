/**
 * The caller's side of plugin-data compare-and-swap: re-run a read-modify-write
 * until it stops failing with a ConflictError (another writer won the round).
 */
import { DecorrelatedBackoff, sleep } from "../ops/backoff.ts";
import { ConflictError } from "./errors.ts";

const CAS_BACKOFF_BASE_MS = 1;
const CAS_BACKOFF_CAP_MS = 1_000;

/**
 * Runs `attempt` until it succeeds. A ConflictError is retried after a
 * decorrelated-jitter pause (1 ms .. 1 s); any other error is thrown. When the
 * signal aborts, the last ConflictError is thrown.
 */
export async function casRetry<T>(
  attempt: () => Promise<T>,
  options: { signal?: AbortSignal; onConflict?: () => void } = {},
): Promise<T> {
  const backoff = new DecorrelatedBackoff(CAS_BACKOFF_BASE_MS, CAS_BACKOFF_CAP_MS);
  while (true) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      options.onConflict?.();
      // An aborted wait ends the loop with the last ConflictError, not the abort reason.
      await sleep(backoff.next(), options.signal).catch(() => {
        throw error;
      });
    }
  }
}
