/** The work queue on its own: one entry per id, dirty re-runs, the in-flight bound, delays, shutdown. */
import assert from "node:assert/strict";
import { WorkQueue } from "../../src/core/work_queue.ts";
import { gate, settle, until, VirtualClock } from "./fakes.ts";

Deno.test("at most `concurrency` passes run at once, and an id never runs twice in parallel", async () => {
  const clock = new VirtualClock();
  const release = gate();
  const running = new Set<string>();
  let peak = 0;
  const runs: string[] = [];
  const queue = new WorkQueue(async (id) => {
    assert.ok(!running.has(id), `${id} ran twice at once`);
    running.add(id);
    peak = Math.max(peak, running.size);
    runs.push(id);
    await release.promise;
    running.delete(id);
    return undefined;
  }, { concurrency: 3, clock });
  for (const id of ["a", "b", "c", "d", "e"]) queue.add(id);
  for (const id of ["a", "a", "b"]) queue.add(id); // while running: dirty, once
  await settle();
  assert.equal(queue.inFlight, 3);
  release.open();
  await until("drained", () => queue.size === 0);
  assert.equal(peak, 3);
  assert.deepEqual(runs.toSorted(), ["a", "a", "b", "b", "c", "d", "e"]);
});

Deno.test("a retry delay holds an id until it is due, unless the request changes", async () => {
  const clock = new VirtualClock();
  const runs: string[] = [];
  const queue = new WorkQueue((id) => {
    runs.push(id);
    return Promise.resolve(runs.length === 1 ? 60_000 : undefined);
  }, { concurrency: 1, clock });
  queue.add("a");
  await until("first run", () => runs.length === 1 && queue.delayed === 1);
  queue.add("a"); // a resync re-adding it does not cut the delay
  await clock.advance(59_000);
  assert.equal(runs.length, 1);
  queue.add("a", { changed: true });
  await until("ran on change", () => runs.length === 2 && queue.size === 0);
});

Deno.test("shutdown drops what has not started and waits for what runs", async () => {
  const clock = new VirtualClock();
  const release = gate();
  const started: string[] = [];
  const queue = new WorkQueue(async (id) => {
    started.push(id);
    await release.promise;
    return 5_000;
  }, { concurrency: 2, clock });
  for (const id of ["a", "b", "c", "d"]) queue.add(id);
  await settle();
  const stopped = queue.shutdown();
  release.open();
  await stopped;
  assert.deepEqual(started, ["a", "b"]);
  assert.equal(queue.size, 0);
  queue.add("e");
  await settle();
  assert.deepEqual(started, ["a", "b"], "nothing starts after shutdown");
});
