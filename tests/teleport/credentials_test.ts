/**
 * Credentials: the client_key/client_crt/root_cas trio and identity files, the
 * teleport.cluster.local server name for IP and hostname addresses, CA mismatch,
 * and expiry (refuse expired certificates, warn about ones that expire soon).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { TeleportClient } from "../../src/teleport/client.ts";
import { EXPIRED_CREDENTIALS_MESSAGE, loadCredentials } from "../../src/teleport/credentials.ts";
import { ConnectionProblemError, CredentialsError } from "../../src/teleport/errors.ts";
import { parseIdentityFile } from "../../src/teleport/identity_file.ts";
import type { CredentialPaths } from "../../src/doubles/teleport_double.ts";
import { startHarness } from "./harness.ts";

function trio({ clientKey, clientCrt, rootCas }: CredentialPaths) {
  return { clientKey, clientCrt, rootCas };
}

Deno.test("the TLS trio authenticates as the certificate's user, dialing an IP address", async () => {
  await using h = await startHarness();
  const client = h.client();
  assert.equal(client.user, "plugin");
  assert.equal((await client.ping()).clusterName, h.double.clusterName);
});

Deno.test("a hostname address works too: the server is verified as teleport.cluster.local", async () => {
  await using h = await startHarness();
  assert.ok(await h.client({ addr: `localhost:${h.double.port}` }).ping());
});

Deno.test("an identity file (auth.pem) alone is enough to connect", async () => {
  await using h = await startHarness();
  const client = h.client({
    identity: h.creds.identity,
    clientKey: undefined,
    clientCrt: undefined,
    rootCas: undefined,
  });
  assert.equal((await client.ping()).clusterName, h.double.clusterName);
});

Deno.test("identity file parsing: key, SSH cert line, TLS cert, SSH CA lines, TLS CAs", async () => {
  await using h = await startHarness();
  const identity = parseIdentityFile(await Deno.readTextFile(h.creds.identity));
  assert.match(identity.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
  assert.match(identity.sshCert, /^ssh-ed25519-cert-v01@openssh\.com AAAA\S+ plugin$/);
  assert.match(identity.tlsCertPem, /^-----BEGIN CERTIFICATE-----/);
  assert.equal(identity.sshCaLines.length, 1);
  assert.equal(identity.tlsCaPems.length, 1);
  assert.equal(identity.tlsCaPems[0], h.double.pki.caPem);
});

Deno.test("a malformed or missing identity file is reported with its path", async () => {
  await using h = await startHarness();
  const broken = join(h.dir, "broken.pem");
  writeFileSync(broken, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  assert.throws(
    () => loadCredentials(h.config({ identity: broken })),
    new CredentialsError(`invalid identity file ${broken}: the first PEM block is not a private key`),
  );
  const missing = join(h.dir, "missing.pem");
  assert.throws(() => loadCredentials(h.config({ identity: missing })), {
    name: "CredentialsError",
    message: new RegExp(`^cannot read identity file ${missing}`),
  });
  assert.throws(() => loadCredentials(h.config({ rootCas: missing })), {
    message: new RegExp(`^cannot read root CA file ${missing}`),
  });
});

Deno.test("a server certificate from another CA is refused", async () => {
  await using h = await startHarness();
  await using other = await startHarness({ clusterName: "other.example.com" });
  const client = h.client({ rootCas: other.creds.rootCas });
  await assert.rejects(client.ping(), ConnectionProblemError);
});

Deno.test("a client certificate from another CA is refused by the server", async () => {
  await using h = await startHarness();
  await using other = await startHarness({ clusterName: "other.example.com" });
  const client = h.client({ clientKey: other.creds.clientKey, clientCrt: other.creds.clientCrt });
  await assert.rejects(client.ping(), ConnectionProblemError);
});

Deno.test("expired credentials stop the plugin with Teleport's message", async () => {
  await using h = await startHarness();
  const expired = await h.double.writeCredentials("stale", h.dir, { expired: true });
  for (const config of [h.config(trio(expired)), h.config({ identity: expired.identity })]) {
    assert.throws(() => TeleportClient.connect(config), (error) => {
      assert.ok(error instanceof CredentialsError);
      assert.ok(error.message.startsWith(EXPIRED_CREDENTIALS_MESSAGE), error.message);
      return true;
    });
  }
});

Deno.test("credentials expiring within 7 days load, with a warning", async () => {
  await using h = await startHarness();
  const soon = await h.double.writeCredentials("soon", h.dir, { validForMs: 3 * 24 * 3600_000 });
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["teleport-pagerduty"], sinks: ["memory"], lowestLevel: "warning" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    loadCredentials(h.config(trio(soon)));
  } finally {
    await reset();
  }
  assert.equal(records.length, 1);
  assert.match(String(records[0].rawMessage), /expire soon/);
  assert.equal(records[0].properties.source, `${soon.clientCrt}, ${soon.clientKey}, ${soon.rootCas}`);
});
