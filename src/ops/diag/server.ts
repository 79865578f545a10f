/**
 * The diagnostics endpoints on `[diag] addr` (off by default; 127.0.0.1:3001 is the
 * usual choice), modelled on tbot's diagnostics service:
 * - GET /livez: 200 `{"status":"ok"}` while the process runs and its main loop turns;
 *   /healthz is an alias (Teleport's own diag address uses /healthz);
 * - GET /readyz: 200 (healthy or degraded) or 503 (unhealthy) with
 *   `{"status", "components": {name: {status, reason?, …}}}`;
 *   GET /readyz/{component}: that component alone (404 for an unknown one);
 * - GET /metrics: Prometheus text exposition.
 *
 * The HTTP server lives in a Worker and answers from the latest snapshot (see
 * worker.ts): no request ever waits for, or takes a turn of, the plugin's loop.
 */
import { splitHostPort } from "../../http/host_port.ts";
import { getLog } from "../logging.ts";
import { assessReadiness, type ComponentProbe } from "./readiness.ts";
import { diagWorkerUrl, type FromWorker, type ToWorker } from "./worker.ts";

export interface DiagSources {
  /** Readiness components, in the order they are reported. */
  components: ReadonlyMap<string, ComponentProbe>;
  /** The /metrics body and its Content-Type. */
  metrics: () => Promise<{ body: string; contentType: string }>;
}

export interface DiagOptions {
  /** How often the main thread publishes a snapshot (default 1 s). */
  publishMs?: number;
  /** A snapshot older than this means the main loop is stuck (default 30 s). */
  stallMs?: number;
}

export interface DiagServer extends AsyncDisposable {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Publishes a snapshot now and resolves once the server has it (tests, shutdown). */
  publish(): Promise<void>;
}

/** Starts serving; rejects with a one-line error naming `[diag] addr` when the address cannot be bound. */
export async function serveDiag(
  addr: string,
  sources: DiagSources,
  options: DiagOptions = {},
): Promise<DiagServer> {
  const { hostname, port } = splitHostPort(addr);
  const url = diagWorkerUrl();
  const worker = new Worker(url, { type: "module" });
  const replies = new Map<string, (message: FromWorker) => void>();
  const waitFor = <T extends FromWorker["type"]>(key: string) =>
    new Promise<Extract<FromWorker, { type: T }>>((resolve) =>
      replies.set(key, resolve as (m: FromWorker) => void)
    );
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    const message = event.data;
    const key = message.type === "ack"
      ? `ack:${message.seq}`
      : message.type === "failed"
      ? "listening"
      : message.type;
    replies.get(key)?.(message);
    replies.delete(key);
  };
  const post = (message: ToWorker) => worker.postMessage(message);

  const started = waitFor<"listening" | "failed">("listening");
  post({ type: "listen", hostname, port, stallMs: options.stallMs ?? 30_000 });
  const result = await started;
  URL.revokeObjectURL(url);
  if (result.type === "failed") {
    worker.terminate();
    throw new Error(`cannot serve the diagnostics endpoints on ${addr} ([diag] addr): ${result.message}`);
  }

  let seq = 0;
  let publishing: Promise<void> | undefined;
  const publish = (): Promise<void> => {
    const run = async () => {
      const readiness = assessReadiness(sources.components);
      const { body, contentType } = await sources.metrics();
      const id = ++seq;
      const acked = waitFor<"ack">(`ack:${id}`);
      post({ type: "snapshot", seq: id, readiness, status: readiness.status, metrics: body, contentType });
      await acked;
    };
    // One at a time; a caller during a publish gets a fresh one after it.
    publishing = (publishing ?? Promise.resolve()).then(run, run);
    return publishing;
  };
  await publish();
  const timer = setInterval(() => void publish(), options.publishMs ?? 1_000);
  // Publishing must never keep a finished process alive.
  Deno.unrefTimer(timer);

  getLog("ops").info("Serving diagnostics (/livez, /readyz, /metrics) on {addr}", { addr });
  return {
    port: result.port,
    publish,
    async [Symbol.asyncDispose]() {
      clearInterval(timer);
      await publishing;
      const stopped = waitFor<"stopped">("stopped");
      post({ type: "stop" });
      await stopped;
      worker.terminate();
    },
  };
}
