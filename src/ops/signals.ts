/**
 * Process signals, following upstream's lib.ServeSignals with one fix:
 * - SIGTERM / first SIGINT: graceful shutdown (`onShutdown`), forced exit after 15 s;
 * - second SIGINT: immediate exit (an impatient operator pressing Ctrl-C twice);
 * - SIGHUP: `onReload` (re-read the configuration, see reload.ts); without one it is
 *   logged and ignored. Upstream dies on it, which kills the plugin when systemd's
 *   `ExecReload` or a log rotator sends it.
 */
import { getLog } from "./logging.ts";

export const SHUTDOWN_GRACE_MS = 15_000;

export interface SignalOptions {
  /** Starts a graceful shutdown (typically aborts the run loop's AbortSignal). */
  onShutdown: (signal: Deno.Signal) => void;
  /** Called when shutdown cannot wait any longer; defaults to `Deno.exit`. */
  exit?: (code: number) => void;
  graceMs?: number;
  /** SIGHUP: reload the configuration. Must not throw; it runs in a signal listener. */
  onReload?: () => void;
}

/** Installs the handlers; the returned function removes them (call it once shut down). */
export function handleSignals(opts: SignalOptions): () => void {
  const log = getLog("signals");
  const exit = opts.exit ?? ((code: number) => Deno.exit(code));
  const graceMs = opts.graceMs ?? SHUTDOWN_GRACE_MS;
  let deadline: ReturnType<typeof setTimeout> | undefined;

  const forceExit = (why: string) => {
    log.error(`${why}; exiting without waiting for a graceful shutdown`);
    exit(1);
  };

  const onStop = (signal: Deno.Signal) => () => {
    if (deadline !== undefined) {
      if (signal === "SIGINT") forceExit("Second SIGINT received");
      else log.info("{signal} received; graceful shutdown already in progress", { signal });
      return;
    }
    log.info("{signal} received, shutting down gracefully", { signal });
    const timer = setTimeout(
      () => forceExit(`Graceful shutdown did not finish within ${graceMs / 1000} s`),
      graceMs,
    );
    // The timer is a safety net only; it must not keep a finished process alive.
    Deno.unrefTimer(timer);
    deadline = timer;
    opts.onShutdown(signal);
  };
  const onHup = opts.onReload ??
    (() => log.warn("SIGHUP received: configuration reload is not supported here; still running"));

  const handlers: [Deno.Signal, () => void][] = [["SIGINT", onStop("SIGINT")]];
  // Windows only delivers SIGINT/SIGBREAK to Deno.
  if (Deno.build.os !== "windows") handlers.push(["SIGTERM", onStop("SIGTERM")], ["SIGHUP", onHup]);
  for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);

  return () => {
    clearTimeout(deadline);
    for (const [sig, fn] of handlers) Deno.removeSignalListener(sig, fn);
  };
}
