/**
 * `start --pid-file PATH`, which the upstream systemd unit passes. Drop-in use of
 * that unit must not fail on it, and a PID file that cannot be written is no
 * reason to stop the plugin: warn and carry on.
 */
import { getLog } from "./logging.ts";

/** Writes this process's PID; returns a function that removes the file again. */
export async function writePidFile(path: string): Promise<() => Promise<void>> {
  try {
    await Deno.writeTextFile(path, `${Deno.pid}\n`);
  } catch (error) {
    getLog("ops").warn("Cannot write the PID file {path}: {error}", {
      path,
      error: (error as Error).message,
    });
    return () => Promise.resolve();
  }
  return () => Deno.remove(path).catch(() => {});
}
