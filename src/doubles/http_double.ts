/**
 * What the HTTP API doubles (PagerDuty, Opsgenie) share: recording requests, contract
 * violations, programmable faults picked by a selector, a relay that can reset a
 * client's connection, and waiting for a condition.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  rawQuery: string;
  headers: Headers;
  body: unknown;
  at: number;
  /** Response status; 0 while pending or when the connection was reset. */
  status: number;
}

export interface Violation {
  method: string;
  path: string;
  problem: string;
}

/** Which requests a fault hits: every Nth, the next N, or all for a while (none = all), narrowed by method and path prefix. */
export interface FaultSelector {
  everyNth?: number;
  nextN?: number;
  forMs?: number;
  method?: string;
  pathPrefix?: string;
}

interface Fault<A> {
  selector: FaultSelector;
  action: A;
  seen: number;
  remaining: number;
  until: number;
}

/** The faults programmed into a double; `match` consumes them as requests arrive. */
export class FaultPlan<A> {
  #faults: Fault<A>[] = [];

  add(selector: FaultSelector, action: A): void {
    const until = selector.forMs === undefined ? Infinity : performance.now() + selector.forMs;
    this.#faults.push({ selector, action, seen: 0, remaining: selector.nextN ?? Infinity, until });
  }

  /** The actions of every fault that hits this request. */
  match(r: { method: string; path: string }): A[] {
    const now = performance.now();
    const hits: A[] = [];
    for (const f of this.#faults) {
      const s = f.selector;
      if (s.method && s.method !== r.method) continue;
      if (s.pathPrefix && !r.path.startsWith(s.pathPrefix)) continue;
      if (now > f.until || f.remaining <= 0) continue;
      f.seen++;
      if (s.everyNth && f.seen % s.everyNth !== 0) continue;
      f.remaining--;
      hits.push(f.action);
    }
    return hits;
  }

  clear(): void {
    this.#faults = [];
  }
}

/** Reads a request into a record (a body that is not JSON is kept as text). */
export async function recordRequest(req: Request): Promise<RecordedRequest> {
  const url = new URL(req.url);
  const text = await req.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return {
    method: req.method,
    path: url.pathname,
    query: url.searchParams,
    rawQuery: url.search.slice(1),
    headers: req.headers,
    body,
    at: performance.now(),
    status: 0,
  };
}

/** Resolves once `predicate()` holds; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---- connection-reset support -----------------------------------------------------------

/** A server certificate and key, PEM. */
export interface TlsIdentity {
  cert: string;
  key: string;
}

/**
 * A TCP relay in front of Deno.serve: Deno.serve cannot drop a connection without
 * answering, so the double hands out this relay's address and, for a reset fault,
 * closes the client's socket from here. The server sees the relay's upstream port as
 * the peer port, which identifies the connection to close. With `tls`, the relay
 * terminates TLS.
 */
export class FrontProxy {
  readonly #listener: Deno.Listener<Deno.Conn, Deno.NetAddr>;
  readonly #scheme: "http" | "https";
  readonly #pairs = new Map<number, { client: Deno.Conn; upstream: Deno.Conn }>();
  readonly #pipes = new Set<Promise<unknown>>();
  readonly #accepting: Promise<void>;

  constructor(private readonly upstreamPort: number, tls?: TlsIdentity) {
    this.#listener = tls
      ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: tls.cert, key: tls.key })
      : Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#scheme = tls ? "https" : "http";
    this.#accepting = this.#accept();
  }

  get url(): string {
    return `${this.#scheme}://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** Closes the client connection whose upstream leg has local port `peerPort`. */
  reset(peerPort: number): void {
    const pair = this.#pairs.get(peerPort);
    if (pair) closeAll(pair.client, pair.upstream);
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const { client, upstream } of this.#pairs.values()) closeAll(client, upstream);
    await Promise.allSettled([...this.#pipes]);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) this.#relay(client);
    } catch {
      // The listener was closed.
    }
  }

  #relay(client: Deno.Conn): void {
    const pipe = (async () => {
      const upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.upstreamPort });
      const port = upstream.localAddr.port;
      this.#pairs.set(port, { client, upstream });
      await Promise.allSettled([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
      this.#pairs.delete(port);
      closeAll(client, upstream);
    })().catch(() => closeAll(client));
    this.#pipes.add(pipe);
    pipe.finally(() => this.#pipes.delete(pipe));
  }
}

function closeAll(...conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Already closed by the other direction of the relay.
    }
  }
}
