/**
 * proxyFor mirrors the proxy choice `fetch` makes from the environment, so that a
 * connection failure can name the proxy it actually tried.
 */
import assert from "node:assert/strict";
import { proxyFor } from "../../src/http/proxy.ts";
import { HttpNetworkError } from "../../src/http/errors.ts";
import { RestTransport } from "../../src/http/transport.ts";

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("HTTPS_PROXY for https, HTTP_PROXY for http, either case; credentials are not repeated", () => {
  const vars = env({ HTTPS_PROXY: "http://user:pw@proxy.corp:3128", http_proxy: "proxy.corp:8080" });
  assert.equal(proxyFor("https://api.pagerduty.com", vars), "http://proxy.corp:3128");
  assert.equal(proxyFor("http://pd.internal", vars), "http://proxy.corp:8080");
  assert.equal(proxyFor("https://api.pagerduty.com", env({})), undefined);
});

Deno.test("NO_PROXY bypasses exact hosts, domain suffixes and everything with *", () => {
  const proxied = (noProxy: string, url = "https://api.pagerduty.com") =>
    proxyFor(url, env({ HTTPS_PROXY: "http://proxy:3128", NO_PROXY: noProxy })) !== undefined;
  assert.equal(proxied("api.pagerduty.com"), false);
  assert.equal(proxied(".pagerduty.com"), false);
  assert.equal(proxied("pagerduty.com"), false);
  assert.equal(proxied("*"), false);
  assert.equal(proxied("example.com, 127.0.0.1"), true);
  assert.equal(proxied("agerduty.com"), true);
});

Deno.test("a refused connection through a configured proxy says so", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const proxy = `http://127.0.0.1:${listener.addr.port}`;
  listener.close();
  using client = Deno.createHttpClient({ proxy: { url: proxy } });
  const transport = new RestTransport({
    service: "PagerDuty",
    endpoint: "http://pagerduty.example",
    secret: "test-api-key",
    authorization: "Token token=test-api-key",
    ratePerMinute: 600,
    retry: { deadlineMs: 0 },
    httpClient: client,
    proxy,
  });
  const err = await transport.request({ method: "GET", path: "/abilities" }).catch((e) => e);
  assert.ok(err instanceof HttpNetworkError, String(err));
  assert.equal(err.networkCause, "refused");
  assert.equal(
    err.message,
    `PagerDuty GET http://pagerduty.example/abilities: connection refused by ${new URL(proxy).host} ` +
      "(nothing listening there?) (the proxy for pagerduty.example)",
  );
});
