/**
 * The diagnostics endpoints on `[diag] addr` (off by default; 127.0.0.1:3001 is the
 * usual choice), modelled on tbot's diagnostics service:
 * - GET /livez: 200 `{"status":"ok"}` while the process runs; /healthz is an alias
 *   (Teleport's own diag address uses /healthz);
 * - GET /readyz: 200 (healthy or degraded) or 503 (unhealthy) with
 *   `{"status", "components": {name: {status, reason?, …}}}`;
 *   GET /readyz/{component}: that component alone (404 for an unknown one);
 * - GET /metrics: Prometheus text exposition.
 *
 * Every answer is computed from state kept in memory: no Teleport or backend call,
 * no file read, nothing the plugin's own work waits for.
 */
import { getLog } from "../logging.ts";
import { assessReadiness, type ComponentProbe, readinessHttpStatus } from "./readiness.ts";

export interface DiagSources {
  /** Readiness components, in the order they are reported. */
  components: ReadonlyMap<string, ComponentProbe>;
  /** The /metrics body and its Content-Type. */
  metrics: () => Promise<{ body: string; contentType: string }>;
}

export interface DiagServer extends AsyncDisposable {
  /** The port actually bound (useful with port 0). */
  port: number;
}

const JSON_HEADERS = { "cache-control": "no-store" };

/** Starts serving; throws a one-line error naming `[diag] addr` when the address cannot be bound. */
export function serveDiag(addr: string, sources: DiagSources): DiagServer {
  const { hostname, port } = splitHostPort(addr);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname, port, onListen() {} }, (request) => respond(request, sources));
  } catch (error) {
    throw new Error(
      `cannot serve the diagnostics endpoints on ${addr} ([diag] addr): ${(error as Error).message}`,
      { cause: error },
    );
  }
  getLog("ops").info("Serving diagnostics (/livez, /readyz, /metrics) on {addr}", { addr });
  return {
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function respond(request: Request, sources: DiagSources): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return Response.json({ error: "method not allowed" }, { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const { pathname } = new URL(request.url);
  if (pathname === "/livez" || pathname === "/healthz") {
    return Response.json({ status: "ok" }, { headers: JSON_HEADERS });
  }
  if (pathname === "/readyz") {
    const report = assessReadiness(sources.components);
    return Response.json(report, { status: readinessHttpStatus(report.status), headers: JSON_HEADERS });
  }
  if (pathname.startsWith("/readyz/")) {
    const name = decodeURIComponent(pathname.slice("/readyz/".length));
    const probe = sources.components.get(name);
    if (!probe) {
      return Response.json({ error: `no component named ${JSON.stringify(name)}` }, { status: 404 });
    }
    const report = assessReadiness(new Map([[name, probe]]));
    return Response.json(report.components[name], {
      status: readinessHttpStatus(report.status),
      headers: JSON_HEADERS,
    });
  }
  if (pathname === "/metrics") {
    const { body, contentType } = await sources.metrics();
    return new Response(body, { headers: { "content-type": contentType } });
  }
  return Response.json({ error: "not found" }, { status: 404 });
}

/** `host:port` or `[v6]:port` → hostname and port (the schema has validated the shape). */
export function splitHostPort(addr: string): { hostname: string; port: number } {
  const colon = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(addr.slice(colon + 1)) };
}
