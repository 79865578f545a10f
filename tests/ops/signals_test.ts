import assert from "node:assert/strict";
import { handleSignals } from "../../src/ops/signals.ts";
import { setupLogging, shutdownLogging } from "../../src/ops/logging.ts";
import { tempDir } from "../fakes/temp_dir.ts";

/** Sends a signal to this test process and gives the listener a moment to run. */
async function raise(signal: Deno.Signal): Promise<void> {
  Deno.kill(Deno.pid, signal);
  await new Promise((r) => setTimeout(r, 100));
}

async function withLogFile(fn: (readLog: () => Promise<string>) => Promise<void>): Promise<void> {
  await using dir = await tempDir("signals-test-");
  const file = `${dir.path}/signals.log`;
  await setupLogging({ output: file, severity: "info", format: "text" });
  try {
    await fn(() => Deno.readTextFile(file));
  } finally {
    await shutdownLogging();
  }
}

Deno.test("SIGHUP without a reload hook is logged and does not shut down", async () => {
  await withLogFile(async (readLog) => {
    const shutdowns: Deno.Signal[] = [];
    const dispose = handleSignals({
      onShutdown: (s) => shutdowns.push(s),
      exit: () => assert.fail("exit called"),
    });
    try {
      await raise("SIGHUP");
    } finally {
      dispose();
    }
    assert.deepEqual(shutdowns, []);
    assert.match(
      await readLog(),
      /SIGHUP received: configuration reload is not supported here; still running/,
    );
  });
});

Deno.test("SIGTERM starts one graceful shutdown; the deadline forces exit 1", async () => {
  await withLogFile(async (readLog) => {
    const shutdowns: Deno.Signal[] = [];
    const exits: number[] = [];
    const dispose = handleSignals({
      onShutdown: (s) => shutdowns.push(s),
      exit: (c) => exits.push(c),
      graceMs: 500,
    });
    try {
      await raise("SIGTERM");
      await raise("SIGTERM");
      assert.deepEqual(shutdowns, ["SIGTERM"]);
      assert.deepEqual(exits, []);
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(exits, [1]);
    } finally {
      dispose();
    }
    assert.match(await readLog(), /Graceful shutdown did not finish within 0\.5 s/);
  });
});

Deno.test("the disposer cancels the deadline", async () => {
  const exits: number[] = [];
  const dispose = handleSignals({ onShutdown: () => {}, exit: (c) => exits.push(c), graceMs: 300 });
  await raise("SIGTERM");
  dispose();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(exits, []);
});

/** Starts the stubborn fixture and waits until its handlers are installed. */
async function startStubborn(graceMs: number) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      new URL("./fixtures/stubborn.ts", import.meta.url).pathname,
      String(graceMs),
    ],
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  assert.equal(new TextDecoder().decode(value).trim(), "ready");
  reader.releaseLock();
  return child;
}

Deno.test("a second SIGINT exits at once (subprocess)", async () => {
  const child = await startStubborn(15_000);
  const started = Date.now();
  child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 200));
  child.kill("SIGINT");
  const { code, stderr } = await child.output();
  assert.equal(code, 1);
  assert.ok(Date.now() - started < 2000);
  assert.match(new TextDecoder().decode(stderr), /Second SIGINT received; exiting without waiting/);
});

Deno.test("a stuck shutdown is forced after the grace period (subprocess)", async () => {
  const child = await startStubborn(300);
  child.kill("SIGTERM");
  const { code, stderr } = await child.output();
  assert.equal(code, 1);
  assert.match(new TextDecoder().decode(stderr), /Graceful shutdown did not finish within 0\.3 s/);
});

Deno.test("SIGHUP calls the reload hook, once per signal, and shuts nothing down", async () => {
  const shutdowns: Deno.Signal[] = [];
  let reloads = 0;
  let reloaded!: () => void;
  let next = new Promise<void>((resolve) => reloaded = resolve);
  const dispose = handleSignals({
    onShutdown: (s) => shutdowns.push(s),
    exit: () => assert.fail("exit called"),
    onReload: () => {
      reloads++;
      reloaded();
    },
  });
  // Signal listeners do not keep the event loop alive; this timer does, and bounds the wait.
  const guard = setTimeout(() => assert.fail("SIGHUP never reached the hook"), 10_000);
  try {
    Deno.kill(Deno.pid, "SIGHUP");
    await next;
    next = new Promise<void>((resolve) => reloaded = resolve);
    Deno.kill(Deno.pid, "SIGHUP");
    await next;
  } finally {
    clearTimeout(guard);
    dispose();
  }
  assert.equal(reloads, 2);
  assert.deepEqual(shutdowns, []);
});
