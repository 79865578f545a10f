/**
 * Configuration errors. Every message starts with the file it came from so an
 * operator running several plugins knows which file to open.
 */

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Dotted TOML key path such as `pagerduty.user_email`, when one key is at fault. */
  keyPath?: string;
  detail: string;
  /** 1-based line where that key (or its table) is written, when the file has it. */
  line?: number;
}

export interface ConfigErrorOptions {
  /** Position of a TOML syntax error (1-based). */
  line?: number;
  column?: number;
  cause?: unknown;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  readonly line?: number;
  readonly column?: number;

  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
    opts: ConfigErrorOptions = {},
  ) {
    super(formatConfigError(file, problems, opts), { cause: opts.cause });
    this.line = opts.line ?? problems[0]?.line;
    this.column = opts.column;
  }

  /** The same error with each problem's line filled in from its key path. */
  withLines(lineOf: (keyPath: string) => number | undefined): ConfigError {
    const problems = this.problems.map((p) => ({
      ...p,
      line: p.line ?? (p.keyPath === undefined ? undefined : lineOf(p.keyPath)),
    }));
    return new ConfigError(this.file, problems, { cause: this.cause });
  }

  /** Key path of the first problem (handy for callers and tests). */
  get keyPath(): string | undefined {
    return this.problems[0]?.keyPath;
  }
}

/** Human name of a config source: stdin has no path. */
export function sourceName(path: string): string {
  return path === "-" ? "<stdin>" : path;
}

function formatConfigError(
  file: string,
  problems: readonly ConfigProblem[],
  opts: ConfigErrorOptions,
): string {
  const name = sourceName(file);
  if (opts.line !== undefined) {
    return `${name}:${opts.line}:${opts.column ?? 1}: ${problems.map(formatProblem).join("; ")}`;
  }
  // file:line of the first problem, as for syntax errors; the others name their own line.
  const [first, ...rest] = problems;
  const where = first?.line === undefined ? name : `${name}:${first.line}`;
  const others = rest.map((p) =>
    p.line === undefined ? formatProblem(p) : `line ${p.line}: ${formatProblem(p)}`
  );
  return `${where}: ${[first ? formatProblem(first) : "", ...others].join("; ")}`;
}

/**
 * Upstream messages such as "missing required value pagerduty.api_key" already
 * name the key; prefixing the key path again would only add noise.
 */
function formatProblem(p: ConfigProblem): string {
  if (p.keyPath === undefined || p.detail.includes(p.keyPath)) return p.detail;
  return `${p.keyPath}: ${p.detail}`;
}
