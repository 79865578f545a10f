import assert from "node:assert/strict";
import { durationToMs, parseGoDuration } from "../../src/config/duration.ts";

Deno.test("parseGoDuration accepts Go duration strings", () => {
  const cases: [string, number][] = [
    ["1m", 60_000],
    ["30s", 30_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["100us", 0.1],
    ["100µs", 0.1],
    ["2h45m30.5s", 9_930_500],
    ["0", 0],
    ["-1s", -1000],
    ["+2m", 120_000],
    [".5s", 500],
  ];
  for (const [text, ms] of cases) assert.equal(parseGoDuration(text), ms, text);
});

Deno.test("parseGoDuration rejects what Go rejects", () => {
  for (const text of ["", "1", "10", "5x", "1 m", "m", "-", "1m ", "1.2.3s", "1constructor"]) {
    assert.throws(() => parseGoDuration(text), /invalid duration/, text);
  }
});

Deno.test("durationToMs takes integer nanoseconds, including bigint", () => {
  assert.equal(durationToMs(1_500_000_000), 1500);
  assert.equal(durationToMs(3_600_000_000_000_000n), 3_600_000_000);
  assert.equal(durationToMs("2s"), 2000);
});
