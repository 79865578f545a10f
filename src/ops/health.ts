/**
 * Health endpoints for probes and monitors (`[diag] addr`):
 * - GET /healthz: 200 `{"status":"ok"}` while the process serves at all;
 * - GET /readyz: 200 when the plugin is ready, else 503, with the details as JSON.
 *
 * Superseded by ./operations.ts (startOperations: /livez, /readyz with components,
 * /metrics); delete this file once run.ts uses it.
 */
import { getLog } from "./logging.ts";
import { splitHostPort } from "../http/host_port.ts";

export interface Readiness {
  ready: boolean;
  /** Why not ready, for people reading the probe's answer. */
  reason?: string;
  [detail: string]: unknown;
}

export interface HealthServer extends AsyncDisposable {
  /** The port actually bound (useful with port 0). */
  port: number;
}

export function serveHealth(addr: string, readiness: () => Readiness): HealthServer {
  const { hostname, port } = splitHostPort(addr);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname, port, onListen() {} }, (request) => respond(request, readiness));
  } catch (error) {
    throw new Error(
      `cannot serve the health endpoints on ${addr} ([diag] addr): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  getLog("ops").info("Serving health endpoints on {addr}", { addr });
  return {
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function respond(request: Request, readiness: () => Readiness): Response {
  if (request.method !== "GET") return Response.json({ error: "method not allowed" }, { status: 405 });
  const { pathname } = new URL(request.url);
  if (pathname === "/healthz") return Response.json({ status: "ok" });
  if (pathname === "/readyz") {
    const state = readiness();
    return Response.json({ status: state.ready ? "ready" : "not ready", ...state }, {
      status: state.ready ? 200 : 503,
    });
  }
  return Response.json({ error: "not found" }, { status: 404 });
}
