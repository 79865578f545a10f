/**
 * Which proxy `fetch` will use for a URL, from the standard environment variables
 * (HTTPS_PROXY / HTTP_PROXY and NO_PROXY, either case), so that a connection failure
 * can say it was the proxy that could not be reached. Deno applies these variables
 * itself, also for a custom `Deno.HttpClient`; this only mirrors its choice.
 */

/** The proxy for `url` without credentials (`http://proxy:3128`), or undefined for a direct connection. */
export function proxyFor(
  url: string,
  env: (name: string) => string | undefined = readEnv,
): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const names = target.protocol === "https:" ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"];
  const proxy = names.map(env).find((v) => v);
  if (!proxy || bypassed(target.hostname, env("NO_PROXY") ?? env("no_proxy") ?? "")) return undefined;
  try {
    const parsed = new URL(proxy.includes("://") ? proxy : `http://${proxy}`);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return undefined;
  }
}

/** NO_PROXY: `*`, or comma-separated host names / domain suffixes (`.example.com`, `example.com`). */
function bypassed(host: string, noProxy: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return noProxy.split(",").map((e) => e.trim().toLowerCase().replace(/:\d+$/, "")).some((entry) => {
    if (!entry) return false;
    if (entry === "*") return true;
    const suffix = entry.startsWith(".") ? entry : `.${entry}`;
    return h === entry.replace(/^\./, "") || h.endsWith(suffix);
  });
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    // No permission to read it: Deno cannot read it to use it either.
    return undefined;
  }
}
