import assert from "node:assert/strict";
import { getLog, setupLogging, shutdownLogging } from "../../src/ops/logging.ts";
import type { LogConfig } from "../../src/config/types.ts";
import { tempDirForFile } from "../fakes/temp_dir.ts";

const DIR = await tempDirForFile("logging-test-");
let files = 0;
/** A fresh log file path in this file's temporary directory. */
const newLogFile = () => `${DIR}/plugin-${++files}.log`;

const SECRET = "pd-SECRET-api-key-0123456789";

async function logToFile(log: Omit<LogConfig, "output">, emit: () => void, path?: string): Promise<string[]> {
  const file = path ?? newLogFile();
  await setupLogging({ ...log, output: file }, { secrets: [SECRET] });
  try {
    emit();
  } finally {
    await shutdownLogging();
  }
  return (await Deno.readTextFile(file)).split("\n").filter((l) => l !== "");
}

function emitSecrets(): void {
  const log = getLog("core");
  log.info("Creating incident with key {key}", { key: SECRET, request_id: "req-1" });
  log.warn(`Request failed: Authorization: Token token=${SECRET}`);
  log.error("PagerDuty said {error}", {
    error: new Error(`bad key ${SECRET}`),
    apiKey: "unrelated-but-named-secret",
    private_key: "pem",
    access_token: "tok",
    nested: { headers: { Authorization: `Token token=${SECRET}` }, list: [SECRET] },
  });
}

Deno.test("text format: timestamp, level, category, message, key=value", async () => {
  const lines = await logToFile({ severity: "info", format: "text" }, () => {
    getLog("core").info("Incident created for {request_id}", {
      request_id: "req-1",
      pd_incident_id: "PINC1",
      pd_service_name: "My Service",
    });
  });
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}\[teleport-pagerduty·core\] Incident created for req-1 pd_incident_id=PINC1 pd_service_name="My Service"$/,
  );
});

Deno.test("no secret leaks in text format", async () => {
  const text = (await logToFile({ severity: "info", format: "text" }, emitSecrets)).join("\n");
  assert.ok(!text.includes(SECRET), text);
  for (const leaked of ["unrelated-but-named-secret", "pem", "tok"]) {
    assert.ok(!text.includes(`=${leaked}`), text);
  }
  assert.match(text, /Creating incident with key \[REDACTED\] request_id=req-1/);
  assert.match(text, /Token token=\[REDACTED\]/);
});

Deno.test("no secret leaks in JSON format; properties are flattened", async () => {
  const lines = await logToFile({ severity: "info", format: "json" }, emitSecrets);
  assert.equal(lines.length, 3);
  assert.ok(lines.every((l) => !l.includes(SECRET)), lines.join("\n"));
  const [first, , third] = lines.map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(first), ["@timestamp", "level", "logger", "message", "key", "request_id"]);
  assert.equal(first.level, "INFO");
  assert.equal(first.logger, "teleport-pagerduty.core");
  assert.equal(first.message, "Creating incident with key [REDACTED]");
  assert.equal(first.key, "[REDACTED]");
  assert.equal(first.request_id, "req-1");
  assert.equal(third.level, "ERROR");
  assert.equal(third.apiKey, "[REDACTED]");
  assert.equal(third.private_key, "[REDACTED]");
  assert.equal(third.access_token, "[REDACTED]");
  assert.equal(third.nested.headers.Authorization, "[REDACTED]");
  assert.deepEqual(third.nested.list, ["[REDACTED]"]);
  assert.equal(third.error.message, "bad key [REDACTED]");
  assert.match(third.message, /^PagerDuty said Error: bad key \[REDACTED\]$/);
});

Deno.test("JSON: a property named like a reserved field gets an underscore", async () => {
  const [line] = await logToFile({ severity: "info", format: "json" }, () => {
    getLog("core").info("hello", { level: "custom", message: "m" });
  });
  const obj = JSON.parse(line);
  assert.equal(obj.level, "INFO");
  assert.equal(obj._level, "custom");
  assert.equal(obj._message, "m");
});

Deno.test("severity filters, and debug forces debug", async () => {
  const emit = () => {
    const log = getLog("core");
    log.debug("debug line");
    log.info("info line");
    log.warn("warn line");
  };
  const warnOnly = await logToFile({ severity: "warn", format: "text" }, emit);
  assert.deepEqual(warnOnly.map((l) => l.split("] ")[1]), ["warn line"]);

  const file = newLogFile();
  await setupLogging({ severity: "error", format: "text", output: file }, { debug: true });
  emit();
  await shutdownLogging();
  assert.equal((await Deno.readTextFile(file)).trim().split("\n").length, 3);
});

Deno.test("file output appends instead of truncating", async () => {
  const file = newLogFile();
  await Deno.writeTextFile(file, "previous run\n");
  await logToFile({ severity: "info", format: "text" }, () => getLog("core").info("first"), file);
  const lines = await logToFile(
    { severity: "info", format: "text" },
    () => getLog("core").info("second"),
    file,
  );
  assert.equal(lines.length, 3);
  assert.equal(lines[0], "previous run");
  assert.match(lines[1], /first$/);
  assert.match(lines[2], /second$/);
});

Deno.test("an unwritable log file is a clear error", async () => {
  await assert.rejects(
    setupLogging({ severity: "info", format: "text", output: "/nonexistent-dir/x.log" }),
    /failed to open the log file \/nonexistent-dir\/x\.log/,
  );
});
