/** `host:port` addresses from the configuration (the schema has validated their shape). */

/** "host:port" (IPv6 host in brackets) → parts for Deno.serve. */
export function splitHostPort(addr: string): { hostname: string; port: number } {
  const colon = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), port: Number(addr.slice(colon + 1)) };
}
