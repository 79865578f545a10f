/** Shared setup for the Teleport client tests: a double, credentials on disk, clients. */
import type { TeleportConfig } from "../../src/config/types.ts";
import { TeleportClient, type TeleportClientOptions } from "../../src/teleport/client.ts";
import type { WatchEvent } from "../../src/core/types.ts";
import {
  type CredentialPaths,
  TeleportDouble,
  type TeleportDoubleOptions,
} from "../../src/doubles/teleport_double.ts";

export const PLUGIN_USER = "plugin";

export interface Harness extends AsyncDisposable {
  double: TeleportDouble;
  dir: string;
  creds: CredentialPaths;
  /** A trio-based config pointing at the double (override any field). */
  config(overrides?: Partial<TeleportConfig>): TeleportConfig;
  /** A client that is closed with the harness. */
  client(overrides?: Partial<TeleportConfig>, options?: TeleportClientOptions): TeleportClient;
}

export async function startHarness(options: TeleportDoubleOptions = {}): Promise<Harness> {
  const double = await TeleportDouble.start(options);
  const dir = await Deno.makeTempDir({ prefix: "teleport-test-" });
  const cleanUp = async () => {
    try {
      await double.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  const creds = await double.writeCredentials(PLUGIN_USER, dir).catch(async (error) => {
    await cleanUp();
    throw error;
  });
  double.setReviewer(PLUGIN_USER, ["*"]);
  const clients: TeleportClient[] = [];
  const config = (overrides: Partial<TeleportConfig> = {}): TeleportConfig => ({
    addr: double.addr,
    refreshIdentity: false,
    refreshIdentityInterval: 60_000,
    clientKey: creds.clientKey,
    clientCrt: creds.clientCrt,
    rootCas: creds.rootCas,
    ...overrides,
  });
  return {
    double,
    dir,
    creds,
    config,
    client(overrides, clientOptions) {
      const client = TeleportClient.connect(config(overrides), clientOptions);
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      try {
        for (const client of clients) client.close();
      } finally {
        await cleanUp();
      }
    },
  };
}

/** Pulls events from a watch until `until` returns true for one (inclusive); fails after timeoutMs. */
export async function takeUntil(
  events: AsyncIterator<WatchEvent>,
  until: (event: WatchEvent) => boolean,
  timeoutMs = 10_000,
): Promise<WatchEvent[]> {
  const taken: WatchEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const remaining = deadline - Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out; got ${JSON.stringify(taken.map((e) => e.type))}`)),
        remaining,
      );
    });
    try {
      const next = await Promise.race([events.next(), timeout]);
      if (next.done) throw new Error("watch ended");
      taken.push(next.value);
      if (until(next.value)) return taken;
    } finally {
      clearTimeout(timer);
    }
  }
}

export const isInit = (event: WatchEvent) => event.type === "init";

/** "127.0.0.1:<port>" where nothing listens (a port just released): connections are refused. */
export function refusedAddr(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return `127.0.0.1:${port}`;
}
