/** Runs `fn` with the program's logs going to memory; returns the records at `lowestLevel` and above. */
import { configure, type LogLevel, type LogRecord, reset } from "@logtape/logtape";
import { LOG_ROOT } from "../../src/ops/logging.ts";

export async function captureLogs(
  fn: () => Promise<void>,
  lowestLevel: LogLevel = "debug",
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: [LOG_ROOT], lowestLevel, sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    await fn();
  } finally {
    await reset();
  }
  return records;
}
