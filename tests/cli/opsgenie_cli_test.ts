/**
 * The teleport-opsgenie binary's CLI: version, configure, one-line config errors, and
 * `start` as a separate process against the Teleport double and the Opsgenie / JSM
 * doubles (create an alert, close it, exit 0 on SIGTERM).
 */
import assert from "node:assert/strict";
import { startOpsgenieWorld } from "../../src/doubles/opsgenie_world.ts";
import { eventually } from "../../src/doubles/world.ts";

const MAIN = new URL("../../src/main_opsgenie.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

function command(args: string[], permissions = ["--allow-read", "--allow-write"]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, MAIN, ...args],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", NO_PROXY: "127.0.0.1", no_proxy: "127.0.0.1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
}

async function run(args: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = command(args).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("teleport-opsgenie version and configure", async () => {
  const version = await run(["version"]);
  assert.equal(version.code, 0);
  assert.match(
    version.stdout,
    new RegExp(
      `^teleport-opsgenie v\\d+\\.\\d+\\.\\d+\\S* git:\\S+ deno ${Deno.version.deno} \\(source\\)\\n$`,
    ),
  );
  const configure = await run(["configure"]);
  assert.equal(configure.code, 0);
  assert.match(configure.stdout, /^# example teleport-opsgenie configuration TOML file\n\[teleport\]/);
  assert.match(configure.stdout, /^\[opsgenie\]$/m);
  const help = await run(["help", "start"]);
  assert.match(help.stdout, /default: "\/etc\/teleport-opsgenie\.toml"/);
});

Deno.test("teleport-opsgenie start: a bad [opsgenie] value is one line naming file, line and key, exit 1", async () => {
  const config = '[teleport]\nidentity = "/tmp/id"\n[opsgenie]\napi_key = "k"\npriority = "urgent"\n';
  const r = await run(["start", "-c", "-"], config);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(
    r.stderr,
    'teleport-opsgenie: error: <stdin>:5: opsgenie.priority: must be one of P1, P2, P3, P4, P5, got "urgent"\n',
  );
});

for (const api of ["opsgenie", "jsm"] as const) {
  Deno.test(`teleport-opsgenie start (${api}): a request gets an alert, its approval closes it, SIGTERM exits 0`, async () => {
    await using world = await startOpsgenieWorld(api);
    const schedule = world.addSchedule("Teleport Notifications");
    const og = world.config.opsgenie;
    const credentials = api === "jsm"
      ? `api = "jsm"\ncloud_id = "${og.cloudId}"\nuser_email = "${og.userEmail}"\napi_token = "${og.apiToken}"\n`
      : `api_key = "${og.apiKey}"\n`;
    const path = `${world.dir}/teleport-opsgenie.toml`;
    await Deno.writeTextFile(
      path,
      `[teleport]\naddr = "${world.teleport.addr}"\nclient_key = "${world.credentials.clientKey}"\n` +
        `client_crt = "${world.credentials.clientCrt}"\nroot_cas = "${world.credentials.rootCas}"\n` +
        `[opsgenie]\n${credentials}api_endpoint = "${og.apiEndpoint}"\n[log]\nseverity = "debug"\nformat = "json"\n`,
      { mode: 0o600 },
    );
    const child = command(["start", "-c", path], ["-A"]).spawn();
    await child.stdin.close();
    const stderr = collect(child.stderr);
    try {
      const id = world.teleport.createRequest({
        user: "alice@example.com",
        roles: ["editor"],
        reason: "because of",
        systemAnnotations: { "teleport.dev/notify-services": [schedule] },
      });
      const alias = `teleport-access-request/${id}`;
      await eventually("alert", () => world.alerts.alertByAlias(alias), 20_000);
      world.teleport.setState(id, "APPROVED", "okay");
      await eventually("closed", () => world.alerts.alertByAlias(alias)?.status === "closed", 20_000);
    } finally {
      child.kill("SIGTERM");
    }
    const { code } = await child.status;
    const log = await stderr;
    assert.equal(code, 0, log);
    assert.deepEqual(world.alerts.violations, []);
    const lines = log.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(
      lines.every((l) => String(l.logger).startsWith("teleport-opsgenie")),
      "log root is the program",
    );
    assert.ok(lines.some((l) => typeof l.opsgenie_alert_id === "string" && l.opsgenie_alert_id !== ""));
    const secret = api === "jsm" ? og.apiToken! : og.apiKey!;
    assert.ok(!log.includes(secret), "the credential never reaches the log");
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  return text;
}
