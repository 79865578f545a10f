/**
 * The demo's timeline: polls the Teleport double and the backend's API double and
 * turns what they actually received into one readable line per event. Nothing here
 * knows what the story expects; the story waits on the same state separately. The
 * backend's calls are described by its adapter (src/demo/pagerduty.ts, opsgenie.ts).
 *
 *   0.12s teleport          alice@example.com requested editor (request 3f2a9c1e)
 *   0.31s plugin→pagerduty  incident Q0000A "Access request from alice@example.com" opened in …
 */
import type { RecordedRequest } from "../doubles/http_double.ts";
import type { TeleportDouble } from "../doubles/teleport_double.ts";
import type { AccessRequest } from "../core/types.ts";
import type { CallSource } from "./adapter.ts";

/** "teleport", "plugin→teleport", "demo", or the backend's side (e.g. "plugin→pagerduty"). */
export type Side = string;

const SIDE_WIDTH = "plugin→pagerduty".length;
const POLL_MS = 10;

export interface TimelineOptions {
  teleport: TeleportDouble;
  /** The backend's API double's calls. */
  calls: CallSource;
  /** The Teleport user the plugin runs as: its reviews are the plugin's. */
  pluginUser: string;
  /** Also show the backend reads (service, user, schedule and on-call lookups). */
  verbose?: boolean;
  write?: (line: string) => void;
}

interface TrackedRequest {
  seenReviews: number;
  state: string;
}

/** Short form of a request id, as people quote them. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

export class Timeline {
  readonly lines: string[] = [];
  readonly #start = performance.now();
  readonly #opts: TimelineOptions;
  readonly #write: (line: string) => void;
  readonly #tracked = new Map<string, TrackedRequest>();
  #cursor = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: TimelineOptions) {
    this.#opts = opts;
    this.#write = opts.write ?? ((line) => console.log(line));
  }

  /** Seconds since the timeline started. */
  elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.poll(), POLL_MS);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Prints a line that is not an event (a heading), unnumbered. */
  note(text: string): void {
    this.poll();
    this.lines.push(text);
    this.#write(text);
  }

  /** Adds a line now. */
  emit(side: Side, text: string): void {
    const line = `${this.elapsed().toFixed(2).padStart(6)}s ${side.padEnd(SIDE_WIDTH)}  ${text}`;
    this.lines.push(line);
    this.#write(line);
  }

  /** Starts following a request: it is announced as Teleport stores it, then its reviews and state. */
  track(id: string): void {
    if (this.#tracked.has(id)) return;
    this.#tracked.set(id, { seenReviews: 0, state: "" });
    this.poll();
  }

  /** Reads both doubles once and emits a line for everything new. */
  poll(): void {
    // The backend first: the story polls right after each of its own actions, so a
    // Teleport change shows before the plugin calls it causes.
    this.#pollCalls();
    for (const [id, tracked] of this.#tracked) this.#pollRequest(id, tracked);
  }

  #pollRequest(id: string, tracked: TrackedRequest): void {
    const request = this.#opts.teleport.getRequest(id);
    if (!request) {
      if (tracked.state !== "DELETED" && tracked.state !== "") {
        this.emit("teleport", `request ${shortId(id)} deleted`);
        tracked.state = "DELETED";
      }
      return;
    }
    if (tracked.state === "") this.emit("teleport", describeNewRequest(request));
    for (const review of request.reviews.slice(tracked.seenReviews)) {
      const verb = review.proposedState === "APPROVED" ? "approved" : review.proposedState.toLowerCase();
      const reason = review.reason ? `: "${review.reason}"` : "";
      if (review.author === this.#opts.pluginUser) {
        this.emit("plugin→teleport", `plugin ${verb} request ${shortId(id)}${reason}`);
      } else {
        this.emit("teleport", `${review.author} ${verb} request ${shortId(id)}${reason}`);
      }
    }
    tracked.seenReviews = request.reviews.length;
    if (tracked.state !== "" && tracked.state !== request.state) {
      this.emit("teleport", `request ${shortId(id)} is now ${request.state}`);
    }
    tracked.state = request.state;
  }

  #pollCalls(): void {
    const { requests, side } = this.#opts.calls;
    // In arrival order; stop at the first call still in flight (status 0).
    while (this.#cursor < requests.length && requests[this.#cursor].status !== 0) {
      const line = this.#describeCall(requests[this.#cursor]);
      if (line) this.emit(side, line);
      this.#cursor++;
    }
  }

  #describeCall(r: RecordedRequest): string | undefined {
    const failed = r.status >= 300;
    if (r.method === "GET") {
      if (!this.#opts.verbose && !failed) return undefined;
      return `GET ${r.path}${r.rawQuery ? `?${decodeURIComponent(r.rawQuery)}` : ""} → ${r.status}`;
    }
    if (failed) return `${r.method} ${r.path} → ${r.status} (the plugin retries)`;
    return this.#opts.calls.describe(r) ?? `${r.method} ${r.path} → ${r.status}`;
  }
}

function describeNewRequest(request: AccessRequest): string {
  const notify = Object.entries(request.systemAnnotations)
    .map(([key, values]) => `${key}=${values.join(",")}`)
    .join(" ");
  return `${request.user} requested ${request.roles.join(", ")} (request ${shortId(request.id)}${
    notify ? `; ${notify}` : ""
  })`;
}

/** The plugin's review and resolution notes in short; any other note quoted on one line. */
export function describeNote(content: string): string {
  const review = content.match(
    /^(\S+) reviewed the request at [^\n]*\nResolution: (\w+)\.\n?(?:Reason: ([^]*?)\.?)?$/,
  );
  if (review) {
    return `review by ${review[1]}: ${review[2]}${review[3] ? `, "${oneLine(review[3], 70)}"` : ""}`;
  }
  const resolution = content.match(/^Access request has been (\w+)\n?(?:Reason: ([^]*))?$/);
  if (resolution) {
    return `resolution: ${resolution[1]}${resolution[2] ? `, "${oneLine(resolution[2], 70)}"` : ""}`;
  }
  return `"${oneLine(content)}"`;
}

/** Note text on one line: line breaks become " / ", long texts are cut. */
function oneLine(text: string, max = 110): string {
  const flat = text.trim().split("\n").map((l) => l.trim()).filter(Boolean).join(" / ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
