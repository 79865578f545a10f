/**
 * The one reporting helper every benchmark uses: the machine it ran on, a readable
 * table, and a final line of JSON with the figures (what tests and tooling parse).
 *
 *   const report = new Report("latency", { smoke });
 *   report.table("Latency (ms)", [["p50", 12.3], ...]);
 *   report.finish({ p50_ms: 12.3, ... });   // prints the JSON line last
 */

export interface MachineInfo {
  cores: number;
  ram_gib: number;
  deno: string;
  v8: string;
  os: string;
}

export function machineInfo(): MachineInfo {
  let ramGib = NaN;
  try {
    ramGib = Deno.systemMemoryInfo().total / 2 ** 30;
  } catch {
    // --allow-sys not granted: reported as null in JSON.
  }
  return {
    cores: navigator.hardwareConcurrency,
    ram_gib: Math.round(ramGib * 10) / 10,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    os: `${Deno.build.os}-${Deno.build.arch}`,
  };
}

/** True when the benchmark should run at toy sizes (test suite): `--smoke` or BENCH_SMOKE=1. */
export function isSmoke(args: string[] = Deno.args): boolean {
  return args.includes("--smoke") || Deno.env.get("BENCH_SMOKE") === "1";
}

export type Cell = string | number | boolean | null | undefined;

/** Renders rows as an aligned text table; numbers are right-aligned and rounded. */
export function formatTable(title: string, header: string[], rows: Cell[][]): string {
  const text = (c: Cell) => typeof c === "number" ? formatNumber(c) : String(c ?? "");
  const cells = [header, ...rows.map((r) => r.map(text))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[], raw?: Cell[]) =>
    "| " +
    r.map((c, i) => typeof raw?.[i] === "number" ? c.padStart(widths[i]) : c.padEnd(widths[i])).join(" | ") +
    " |";
  const rule = "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|";
  return [
    `\n${title}`,
    line(header),
    rule,
    ...rows.map((r, i) => line(cells[i + 1], r)),
  ].join("\n");
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** p in [0, 100]; nearest-rank on a sorted copy. NaN for no samples. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export class Report {
  readonly machine = machineInfo();
  readonly #started = performance.now();

  constructor(readonly name: string, readonly options: { smoke: boolean; notes?: string[] }) {
    const m = this.machine;
    console.log(
      `# bench ${name}${options.smoke ? " (smoke: toy sizes, figures meaningless)" : ""}\n` +
        `machine: ${m.cores} cores, ${m.ram_gib} GiB RAM, ${m.os}, Deno ${m.deno} (V8 ${m.v8})`,
    );
  }

  /** Progress line (to stderr, so stdout stays tables + the JSON line). */
  progress(message: string): void {
    const s = ((performance.now() - this.#started) / 1000).toFixed(1).padStart(6);
    console.error(`[${this.name} ${s}s] ${message}`);
  }

  table(title: string, header: string[], rows: Cell[][]): void {
    console.log(formatTable(title, header, rows));
  }

  note(text: string): void {
    console.log(text);
  }

  /** Prints the JSON figures as the last line of stdout. */
  finish(figures: Record<string, unknown>): void {
    const json = {
      bench: this.name,
      smoke: this.options.smoke,
      machine: this.machine,
      wall_s: round((performance.now() - this.#started) / 1000, 1),
      ...figures,
    };
    console.log("\n" + JSON.stringify(json));
  }
}
