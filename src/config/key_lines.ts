/**
 * Where each key of a TOML document is defined, for error messages: smol-toml
 * reports positions only for syntax errors. A small scanner over the source text
 * follows table headers (`[a.b]`, `[[a]]`), dotted keys (`a.b = 1`) and inline
 * tables (`a = { b = 1 }`), and skips every kind of string, arrays and comments,
 * so text inside values is never taken for a key. It runs on documents smol-toml
 * has already accepted; on anything it does not understand it stops and returns
 * what it found so far.
 */

/** Key path (segments as written, unquoted) → 1-based line of its first definition. */
export class KeyLines {
  readonly #lines = new Map<string, number>();

  /** The line where `path` (or, failing that, its closest enclosing table) is defined. */
  lineOf(path: readonly string[]): number | undefined {
    for (let end = path.length; end > 0; end--) {
      const line = this.#lines.get(pathId(path.slice(0, end)));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  /** The line where exactly `path` is defined. */
  exactLineOf(path: readonly string[]): number | undefined {
    return this.#lines.get(pathId(path));
  }

  /** Records `path` and every enclosing table not yet seen at `line`. */
  define(path: readonly string[], line: number): void {
    for (let end = 1; end <= path.length; end++) {
      const id = pathId(path.slice(0, end));
      if (!this.#lines.has(id)) this.#lines.set(id, line);
    }
  }
}

function pathId(path: readonly string[]): string {
  return path.join("\u0000");
}

/** Finds the line of every key and table in `text`. */
export function findKeyLines(text: string): KeyLines {
  const found = new KeyLines();
  try {
    new Scanner(text, found).document();
  } catch (error) {
    if (!(error instanceof StopScanning)) throw error;
  }
  return found;
}

class StopScanning extends Error {}

const BARE_KEY = /[A-Za-z0-9_-]/;
const ESCAPES: Record<string, string> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  e: "\x1b",
  '"': '"',
  "\\": "\\",
};

class Scanner {
  #pos = 0;
  #line = 1;

  constructor(readonly text: string, readonly found: KeyLines) {}

  document(): void {
    let table: string[] = [];
    while (this.#pos < this.text.length) {
      this.#skipBlank();
      const c = this.#peek();
      if (c === undefined) return;
      if (c === "\n" || c === "\r") {
        this.#newline();
      } else if (c === "#") {
        this.#skipComment();
      } else if (c === "[") {
        const array = this.text.startsWith("[[", this.#pos);
        this.#pos += array ? 2 : 1;
        const line = this.#line;
        table = this.#key();
        this.#expect(array ? "]]" : "]");
        this.found.define(table, line);
      } else {
        this.#keyValue(table);
      }
    }
  }

  /** `key = value`, recording the key (relative to `table`) and any keys of an inline table. */
  #keyValue(table: readonly string[]): void {
    const line = this.#line;
    const path = [...table, ...this.#key()];
    this.found.define(path, line);
    this.#skipBlank();
    this.#expect("=");
    this.#skipBlank();
    this.#value(path);
  }

  /** A dotted key: bare, "basic" or 'literal' segments separated by dots. */
  #key(): string[] {
    const segments: string[] = [];
    while (true) {
      this.#skipBlank();
      const c = this.#peek();
      if (c === '"') segments.push(this.#basicString());
      else if (c === "'") segments.push(this.#literalString());
      else {
        const start = this.#pos;
        while (this.#peek() !== undefined && BARE_KEY.test(this.#peek()!)) this.#pos++;
        if (this.#pos === start) throw new StopScanning();
        segments.push(this.text.slice(start, this.#pos));
      }
      this.#skipBlank();
      if (this.#peek() !== ".") return segments;
      this.#pos++;
    }
  }

  #value(path: readonly string[]): void {
    const c = this.#peek();
    if (this.text.startsWith('"""', this.#pos)) this.#multilineString('"""');
    else if (this.text.startsWith("'''", this.#pos)) this.#multilineString("'''");
    else if (c === '"') this.#basicString();
    else if (c === "'") this.#literalString();
    else if (c === "[") this.#array(path);
    else if (c === "{") this.#inlineTable(path);
    else {
      // Numbers, booleans, dates and times (which may hold one space): up to a delimiter.
      const start = this.#pos;
      while (this.#peek() !== undefined && !/[,\]}#\r\n]/.test(this.#peek()!)) this.#pos++;
      if (this.#pos === start) throw new StopScanning();
    }
  }

  #array(path: readonly string[]): void {
    this.#commaSeparated("]", () => this.#value(path));
  }

  /** `{ a = 1, b.c = 2 }`; TOML 1.1 also allows newlines and comments inside. */
  #inlineTable(path: readonly string[]): void {
    this.#commaSeparated("}", () => this.#keyValue(path));
  }

  /** Items after an opening bracket, separated by commas (a trailing one allowed), up to `close`. */
  #commaSeparated(close: string, item: () => void): void {
    this.#pos++; // the opening bracket
    while (true) {
      this.#skipBlankLinesAndComments();
      if (this.#peek() === close) {
        this.#pos++;
        return;
      }
      item();
      this.#skipBlankLinesAndComments();
      if (this.#peek() === ",") this.#pos++;
      else if (this.#peek() !== close) throw new StopScanning();
    }
  }

  #basicString(): string {
    this.#pos++; // "
    let value = "";
    while (true) {
      const c = this.#take();
      if (c === '"') return value;
      if (c === "\n") throw new StopScanning();
      value += c === "\\" ? this.#escape() : c;
    }
  }

  #escape(): string {
    const c = this.#take();
    if (c in ESCAPES) return ESCAPES[c];
    const digits = c === "u" ? 4 : c === "U" ? 8 : c === "x" ? 2 : 0;
    if (digits === 0) throw new StopScanning();
    const hex = this.text.slice(this.#pos, this.#pos + digits);
    this.#pos += digits;
    const code = Number.parseInt(hex, 16);
    if (!/^[0-9a-fA-F]+$/.test(hex) || code > 0x10ffff) throw new StopScanning();
    return String.fromCodePoint(code);
  }

  #literalString(): string {
    this.#pos++; // '
    const end = this.text.indexOf("'", this.#pos);
    const newline = this.text.indexOf("\n", this.#pos);
    if (end < 0 || (newline >= 0 && newline < end)) throw new StopScanning();
    const value = this.text.slice(this.#pos, end);
    this.#pos = end + 1;
    return value;
  }

  /** """…""" or '''…''': up to the closing quotes (up to two more quotes may belong to the content). */
  #multilineString(quotes: string): void {
    this.#pos += 3;
    while (true) {
      if (this.text.startsWith(quotes, this.#pos)) {
        this.#pos += 3;
        while (this.#peek() === quotes[0]) this.#pos++;
        return;
      }
      const c = this.#take();
      if (c === "\\" && quotes === '"""') this.#take(); // an escaped quote or backslash (or a newline)
    }
  }

  #skipBlank(): void {
    while (this.#peek() === " " || this.#peek() === "\t") this.#pos++;
  }

  #skipComment(): void {
    while (this.#peek() !== undefined && this.#peek() !== "\n") this.#pos++;
  }

  #skipBlankLinesAndComments(): void {
    while (true) {
      this.#skipBlank();
      const c = this.#peek();
      if (c === "#") this.#skipComment();
      else if (c === "\n" || c === "\r") this.#newline();
      else return;
    }
  }

  #newline(): void {
    if (this.#peek() === "\r") this.#pos++;
    if (this.#peek() === "\n") {
      this.#pos++;
      this.#line++;
    }
  }

  #expect(token: string): void {
    if (!this.text.startsWith(token, this.#pos)) throw new StopScanning();
    this.#pos += token.length;
  }

  #peek(): string | undefined {
    return this.#pos < this.text.length ? this.text[this.#pos] : undefined;
  }

  /** The next character, counting lines; the end of the text stops the scan. */
  #take(): string {
    const c = this.#peek();
    if (c === undefined) throw new StopScanning();
    this.#pos++;
    if (c === "\n") this.#line++;
    return c;
  }
}
