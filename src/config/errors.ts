/**
 * Configuration errors. Every message starts with the file it came from so an
 * operator running several plugins knows which file to open.
 */

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Dotted TOML key path such as `pagerduty.user_email`, when one key is at fault. */
  keyPath?: string;
  detail: string;
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
    this.line = opts.line;
    this.column = opts.column;
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
  const where = opts.line === undefined ? name : `${name}:${opts.line}:${opts.column ?? 1}`;
  return `${where}: ${problems.map(formatProblem).join("; ")}`;
}

/**
 * Upstream messages such as "missing required value pagerduty.api_key" already
 * name the key; prefixing the key path again would only add noise.
 */
function formatProblem(p: ConfigProblem): string {
  if (p.keyPath === undefined || p.detail.includes(p.keyPath)) return p.detail;
  return `${p.keyPath}: ${p.detail}`;
}
