import assert from "node:assert/strict";
import { KeyedQueue } from "../../src/core/keyed_queue.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

Deno.test("jobs of one key run one at a time in arrival order", async () => {
  const queue = new KeyedQueue(8);
  const order: number[] = [];
  let running = 0;
  for (let i = 0; i < 20; i++) {
    queue.push("req-1", async () => {
      running += 1;
      assert.equal(running, 1);
      await tick();
      order.push(i);
      running -= 1;
    });
  }
  await queue.idle();
  assert.deepEqual(order, [...Array(20).keys()]);
});

Deno.test("different keys overlap up to the limit, never beyond", async () => {
  const queue = new KeyedQueue(3);
  let running = 0;
  let peak = 0;
  for (let i = 0; i < 12; i++) {
    queue.push(`req-${i}`, async () => {
      running += 1;
      peak = Math.max(peak, running);
      await tick();
      running -= 1;
    });
  }
  assert.equal(queue.size, 12);
  await queue.idle();
  assert.equal(peak, 3);
  assert.equal(queue.size, 0);
});

Deno.test("a throwing job does not stop the jobs behind it", async () => {
  const queue = new KeyedQueue(1);
  const done: string[] = [];
  queue.push("k", () => Promise.reject(new Error("boom")));
  queue.push("k", () => Promise.resolve(void done.push("second")));
  await queue.idle();
  assert.deepEqual(done, ["second"]);
});
