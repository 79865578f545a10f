/** Compare-and-swap access to the plugin's state for one request. */
import type { PluginStateCodec } from "./backend.ts";
import { casRetry } from "./cas.ts";
import type { AccessRequestSource } from "./ports.ts";
import type { PluginState } from "./state.ts";
import type { PluginDataMap } from "./types.ts";

/** Returns the next state, or null to write nothing. Must be pure: it may run several times. */
export type StateChange = (current: PluginState | null) => PluginState | null;

/** Plugin data as last read or written: `raw` is exactly what Teleport stores (null: no entry). */
export interface Snapshot {
  state: PluginState | null;
  raw: PluginDataMap | null;
}

export interface StoreOptions {
  source: Pick<AccessRequestSource, "getPluginData" | "updatePluginData">;
  pluginName: string;
  codec: PluginStateCodec;
  /** Called for every lost compare-and-swap round. */
  onConflict?: () => void;
}

export class PluginStateStore {
  readonly #o: StoreOptions;

  constructor(options: StoreOptions) {
    this.#o = options;
  }

  /** The stored state of one request. */
  async read(requestId: string, signal?: AbortSignal): Promise<Snapshot> {
    const raw = await this.#o.source.getPluginData(requestId, this.#o.pluginName, signal);
    return { state: raw ? this.#o.codec.decode(raw) : null, raw };
  }

  /**
   * Applies `change` to the stored state, retrying on concurrent writes. The first
   * attempt trusts `known` (saving a read); a failed write means it was stale, so
   * later attempts read afresh. Returns what is stored afterwards.
   */
  async modify(
    requestId: string,
    change: StateChange,
    known?: Snapshot,
    signal?: AbortSignal,
  ): Promise<Snapshot> {
    let trusted = known;
    return await casRetry(async () => {
      const current = trusted ?? await this.read(requestId, signal);
      trusted = undefined;
      const next = change(current.state);
      if (!next) return current;
      const set = this.#o.codec.encode(next);
      const expect = expectationOf(current.raw, set);
      await this.#o.source.updatePluginData(requestId, this.#o.pluginName, set, expect, signal);
      const raw = storedAfter(current.raw, set);
      return { state: raw ? this.#o.codec.decode(raw) : null, raw };
    }, { signal, onConflict: this.#o.onConflict });
  }
}

/**
 * The full snapshot we read, so any concurrent change fails the write. Keys we did
 * not see are expected absent; an absent entry expects every written key empty,
 * which Teleport treats as "create only".
 */
export function expectationOf(raw: PluginDataMap | null, set: PluginDataMap): PluginDataMap {
  const expect: PluginDataMap = {};
  for (const key of Object.keys(set)) expect[key] = "";
  return { ...expect, ...raw };
}

/** Teleport's update rule: `set` overwrites, an empty value deletes, an emptied entry disappears. */
function storedAfter(raw: PluginDataMap | null, set: PluginDataMap): PluginDataMap | null {
  const stored = Object.fromEntries(Object.entries({ ...raw, ...set }).filter(([, value]) => value !== ""));
  return Object.keys(stored).length === 0 ? null : stored;
}
