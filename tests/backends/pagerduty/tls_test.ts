/**
 * `caFile` makes the client trust a private CA (e.g. a PagerDuty API proxy inside the
 * network) without touching the process-wide trust store.
 */
import assert from "node:assert/strict";
import { PagerDutyClient, PagerDutyNetworkError } from "../../../src/backends/pagerduty/mod.ts";
import { TestPki } from "../../../src/doubles/pki.ts";

/** A private CA and a 127.0.0.1 server certificate signed by it. */
async function makePki(dir: string): Promise<{ caFile: string; cert: string; key: string }> {
  const pki = await TestPki.create("private-ca");
  const server = await pki.issueServerCert([{ type: "ip", value: "127.0.0.1" }]);
  await Deno.writeTextFile(`${dir}/ca.crt`, pki.caPem);
  return { caFile: `${dir}/ca.crt`, cert: server.certPem, key: server.keyPem };
}

Deno.test("caFile: trusted with the CA, refused without it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pki = await makePki(dir);
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, cert: pki.cert, key: pki.key, onListen() {} },
      () => Response.json({ abilities: [] }),
    );
    const config = {
      apiKey: "k",
      userEmail: "bot@example.com",
      apiEndpoint: `https://127.0.0.1:${server.addr.port}`,
    };

    using trusting = new PagerDutyClient({ ...config, caFile: pki.caFile });
    await trusting.healthCheck();

    using plain = new PagerDutyClient(config, { retry: { deadlineMs: 0 } });
    await assert.rejects(plain.healthCheck(), PagerDutyNetworkError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
