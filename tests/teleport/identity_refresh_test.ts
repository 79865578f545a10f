import assert from "node:assert/strict";
import { TeleportClient } from "../../src/teleport/client.ts";
import { TeleportDouble } from "../../src/doubles/teleport_double.ts";

/**
 * tbot renews the identity file in place; the next connection must present the
 * renewed certificate. The renewed one here names another user so the double can
 * tell which certificate a call came with.
 */
async function callerAfterRenewal(refreshIdentity: boolean): Promise<string | undefined> {
  const double = await TeleportDouble.start();
  const dir = await Deno.makeTempDir();
  try {
    const original = await double.writeCredentials("plugin", dir);
    const client = TeleportClient.connect(
      { addr: double.addr, identity: original.identity, refreshIdentity, refreshIdentityInterval: 50 },
      { callTimeoutMs: 2_000 },
    );
    try {
      await client.ping();
      assert.equal(double.lastCaller, "plugin");
      await Deno.mkdir(`${dir}/renewed`);
      const renewed = await double.writeCredentials("plugin-renewed", `${dir}/renewed`);
      await Deno.writeTextFile(original.identity, await Deno.readTextFile(renewed.identity));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await double.restart({ graceful: false });
      await client.ping();
      return double.lastCaller;
    } finally {
      client.close();
    }
  } finally {
    await double.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("refresh_identity: new connections present the renewed identity file", async () => {
  assert.equal(await callerAfterRenewal(true), "plugin-renewed");
});

Deno.test("without refresh_identity the identity read at start is kept", async () => {
  assert.equal(await callerAfterRenewal(false), "plugin");
});
