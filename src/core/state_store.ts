/** Compare-and-swap access to the plugin's state for one request. */
import { casRetry } from "./cas.ts";
import type { AccessRequestSource } from "./ports.ts";
import type { PluginDataMap } from "./types.ts";
import { decodePluginState, encodePluginState, GO_KEYS, type PluginState } from "./plugin_data.ts";

/** Returns the next state, or null to write nothing. Must be pure: it may run several times. */
export type StateChange = (current: PluginState | null) => PluginState | null;

/** Plugin data as last read or written: `raw` is exactly what Teleport stores (null: no entry). */
export interface Snapshot {
  state: PluginState | null;
  raw: PluginDataMap | null;
}

export class PluginStateStore {
  constructor(private readonly source: AccessRequestSource, readonly pluginName: string) {}

  async read(requestId: string): Promise<Snapshot> {
    const raw = await this.source.getPluginData(requestId, this.pluginName);
    return { state: raw ? decodePluginState(raw) : null, raw };
  }

  /**
   * Applies `change` to the stored state, retrying on concurrent writes. The first
   * attempt trusts `known` (saving a read); a failed write means it was stale, so
   * later attempts read afresh. Returns what is stored afterwards.
   */
  async modify(requestId: string, change: StateChange, known?: Snapshot): Promise<Snapshot> {
    let trusted = known;
    return await casRetry(async () => {
      const current = trusted ?? await this.read(requestId);
      trusted = undefined;
      const next = change(current.state);
      if (!next) return current;
      const set = encodePluginState(next);
      await this.source.updatePluginData(requestId, this.pluginName, set, expectationOf(current.raw, set));
      const raw = storedAfter(current.raw, set);
      return { state: raw ? decodePluginState(raw) : null, raw };
    });
  }
}

/**
 * The full snapshot we read, so any concurrent change fails the write. Keys we did
 * not see are expected absent; an absent entry expects every Go key empty, which
 * Teleport treats as "create only".
 */
export function expectationOf(raw: PluginDataMap | null, set: PluginDataMap): PluginDataMap {
  const expect: PluginDataMap = {};
  for (const key of [...GO_KEYS, ...Object.keys(set)]) expect[key] = "";
  return { ...expect, ...raw };
}

/** Teleport's update rule: `set` overwrites, an empty value deletes, an emptied entry disappears. */
function storedAfter(raw: PluginDataMap | null, set: PluginDataMap): PluginDataMap | null {
  const stored = Object.fromEntries(Object.entries({ ...raw, ...set }).filter(([, value]) => value !== ""));
  return Object.keys(stored).length === 0 ? null : stored;
}
