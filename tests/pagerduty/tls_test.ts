/**
 * `caFile` makes the client trust a private CA (e.g. a PagerDuty API proxy inside the
 * network) without touching the process-wide trust store.
 */
import assert from "node:assert/strict";
import { PagerDutyClient, PagerDutyNetworkError } from "../../src/pagerduty/mod.ts";

/** Creates a CA and a 127.0.0.1 server certificate signed by it, with openssl. */
async function makePki(dir: string): Promise<{ caFile: string; cert: string; key: string }> {
  const run = async (...args: string[]) => {
    const { success, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" })
      .output();
    if (!success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  };
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
  await run(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=Test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  );
  await run(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  await run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
    "-out",
    "server.crt",
  );
  return {
    caFile: `${dir}/ca.crt`,
    cert: await Deno.readTextFile(`${dir}/server.crt`),
    key: await Deno.readTextFile(`${dir}/server.key`),
  };
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
