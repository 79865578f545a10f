/** The [review] section: off by default, one-line errors naming file and key, secrets from files. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/config/errors.ts";

const BASE = `[teleport]\nidentity = "/id"\n[pagerduty]\napi_key = "k"\nuser_email = "bot@example.com"\n`;
const WEBHOOK_SECRET = "pd-webhook-secret-VALUE-123";

/** Loads BASE + `review` from a temp dir (with `files` beside it), removed afterwards. */
async function withConfig<T>(
  review: string,
  use: (load: () => ReturnType<typeof loadConfig>, dir: string) => Promise<T>,
  files: Record<string, string> = {},
): Promise<T> {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(join(dir, name), text, { mode: 0o600 });
    }
    const path = join(dir, "config.toml");
    await Deno.writeTextFile(path, BASE + review.replaceAll("$DIR", dir), { mode: 0o600 });
    return await use(() => loadConfig(path), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function errorOf(review: string, files: Record<string, string> = {}): Promise<string> {
  return await withConfig(review, async (load) => {
    const error = await load().then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.equal(error.message.split("\n").length, 1, error.message);
    assert.ok(!error.message.includes(WEBHOOK_SECRET), "the secret is never echoed");
    return error.message;
  }, files);
}

Deno.test("[review] is off unless enabled, whatever else it holds", async () => {
  await withConfig(`[review]\nwebhook_secret = "${WEBHOOK_SECRET}"\n`, async (load) => {
    const { config } = await load();
    assert.equal(config.review?.enabled, false);
  });
});

Deno.test("an enabled [review] needs an address and a verified trigger", async () => {
  assert.match(
    await errorOf(`[review]\nenabled = true\n`),
    /config\.toml:\d+: .*missing required value review\.listen_addr.*line \d+: review\.enabled: review is enabled but no trigger/,
  );
  assert.match(
    await errorOf(
      `[review]\nenabled = true\nlisten_addr = "0.0.0.0:8443"\nwebhook_secret = "${WEBHOOK_SECRET}"\n`,
    ),
    /review\.approve_ids: set approve_ids and\/or deny_ids/,
  );
  assert.match(
    await errorOf(`[review]\nenabled = true\nlisten_addr = "0.0.0.0:8443"\napprove_ids = ["PT1"]\n`),
    /review\.webhook_secret: approve_ids\/deny_ids need the webhook subscription's secret/,
  );
  assert.match(
    await errorOf(
      `[review]\nenabled = true\nlisten_addr = "0.0.0.0:8443"\napprove_action_secret = "short"\n`,
    ),
    /review\.approve_action_secret: must be at least 16 characters/,
  );
  assert.match(
    await errorOf(
      `[review]\nenabled = true\nlisten_addr = ":x"\nwebhook_secret = "s"\napprove_ids = ["A"]\ndeny_ids = ["A"]\ntls_cert_file = "/c"\n`,
    ),
    /review\.listen_addr: must be host:port.*review\.tls_key_file: tls_cert_file and tls_key_file go together.*review\.deny_ids: A is both an approve and a deny id/,
  );
  assert.match(await errorOf(`[review]\nenabled = "yes"\n`), /review\.enabled: must be true or false/);
});

Deno.test("secrets can come from files; a missing file or both forms are errors naming the key", async () => {
  await withConfig(
    `[review]\nenabled = true\nlisten_addr = "127.0.0.1:8443"\nwebhook_secret_file = "$DIR/secret"\napprove_ids = ["PT1"]\n` +
      `deny_action_secret_file = "$DIR/deny"\n`,
    async (load) => {
      const { config } = await load();
      assert.deepEqual(config.review?.webhookSecrets, [WEBHOOK_SECRET, "second-secret"]);
      assert.equal(config.review?.actionSecrets.deny, "deny-secret-0123456789");
      assert.deepEqual(config.review?.approveIds, ["PT1"]);
      assert.equal(config.review?.userTrait, "pagerduty_user_id");
    },
    { secret: `${WEBHOOK_SECRET}\nsecond-secret\n`, deny: "deny-secret-0123456789\n" },
  );
  assert.match(
    await errorOf(`[review]\nwebhook_secret_file = "$DIR/nope"\n`),
    /review\.webhook_secret_file: cannot read .*nope: file not found/,
  );
  assert.match(
    await errorOf(`[review]\nwebhook_secret = "x"\nwebhook_secret_file = "$DIR/secret"\n`, { secret: "y" }),
    /set either review\.webhook_secret or review\.webhook_secret_file, not both/,
  );
});
