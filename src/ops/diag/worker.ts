/**
 * The diagnostics HTTP server runs in its own Worker (thread and event loop), so a
 * probe or a scrape is answered at once however busy the plugin's main loop is, and
 * answering never takes a turn of that loop. The main thread publishes a snapshot
 * (readiness and the rendered /metrics text) every second; the worker serves the
 * latest one. A snapshot older than `stallMs` means the main loop is stuck: /livez
 * and /readyz then answer 503.
 *
 * The worker's code is `serveSnapshots` below, started from a blob: URL built from
 * its source text, so it ships inside the bundle and the compiled binary alike. It
 * must stay self-contained: no imports, no references to anything outside it.
 */

/** Main → worker. */
export type ToWorker =
  | { type: "listen"; hostname: string; port: number; stallMs: number }
  | {
    type: "snapshot";
    seq: number;
    readiness: unknown;
    status: string;
    metrics: string;
    contentType: string;
  }
  | { type: "stop" };

/** Worker → main. */
export type FromWorker =
  | { type: "listening"; port: number }
  | { type: "failed"; message: string }
  | { type: "ack"; seq: number }
  | { type: "stopped" };

/** The worker's program (runs in the worker; self-contained). */
function serveSnapshots(): void {
  const scope = self as unknown as {
    onmessage: (event: MessageEvent) => void;
    postMessage(message: unknown): void;
  };
  let server: Deno.HttpServer<Deno.NetAddr> | undefined;
  let stallMs = 30_000;
  let snapshot:
    | {
      readiness: { status: string; components: Record<string, unknown> };
      metrics: string;
      contentType: string;
      at: number;
    }
    | undefined;
  const headers = { "cache-control": "no-store" };

  const stalled = (): string | undefined => {
    if (!snapshot) return "starting";
    const age = performance.now() - snapshot.at;
    return age > stallMs
      ? `the plugin's main loop has not reported for ${Math.round(age / 1000)} s`
      : undefined;
  };

  const respond = (request: Request): Response => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return Response.json({ error: "method not allowed" }, { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const { pathname } = new URL(request.url);
    const stall = stalled();
    if (pathname === "/livez" || pathname === "/healthz") {
      // "starting" is alive: liveness must not fail while the plugin connects.
      return stall && snapshot
        ? Response.json({ status: "stalled", reason: stall }, { status: 503, headers })
        : Response.json({ status: "ok" }, { headers });
    }
    if (pathname === "/readyz" || pathname.startsWith("/readyz/")) {
      if (stall || !snapshot) {
        return Response.json({ status: "unhealthy", reason: stall }, { status: 503, headers });
      }
      const report = snapshot.readiness;
      if (pathname === "/readyz") {
        return Response.json(report, { status: report.status === "unhealthy" ? 503 : 200, headers });
      }
      const name = decodeURIComponent(pathname.slice("/readyz/".length));
      const component = report.components[name] as { status: string } | undefined;
      if (!component) {
        return Response.json({ error: `no component named ${JSON.stringify(name)}` }, { status: 404 });
      }
      return Response.json(component, { status: component.status === "unhealthy" ? 503 : 200, headers });
    }
    if (pathname === "/metrics") {
      if (!snapshot) return new Response("", { status: 503 });
      return new Response(snapshot.metrics, { headers: { "content-type": snapshot.contentType } });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  };

  scope.onmessage = async (event: MessageEvent) => {
    const message = event.data as
      | { type: "listen"; hostname: string; port: number; stallMs: number }
      | {
        type: "snapshot";
        seq: number;
        readiness: { status: string; components: Record<string, unknown> };
        metrics: string;
        contentType: string;
      }
      | { type: "stop" };
    if (message.type === "listen") {
      stallMs = message.stallMs;
      try {
        server = Deno.serve({ hostname: message.hostname, port: message.port, onListen() {} }, respond);
        scope.postMessage({ type: "listening", port: server.addr.port });
      } catch (error) {
        scope.postMessage({ type: "failed", message: (error as Error).message });
      }
    } else if (message.type === "snapshot") {
      snapshot = { ...message, at: performance.now() };
      scope.postMessage({ type: "ack", seq: message.seq });
    } else if (message.type === "stop") {
      await server?.shutdown();
      scope.postMessage({ type: "stopped" });
    }
  };
}

/** A blob: URL running `serveSnapshots` (revoke it once the worker has started). */
export function diagWorkerUrl(): string {
  const source = `(${serveSnapshots.toString()})();\n`;
  return URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
}
