/** Compare-and-swap access to the plugin's state for one request. */
import { casRetry } from "../teleport/cas.ts";
import type { AccessRequestSource } from "./ports.ts";
import type { PluginDataMap } from "../teleport/types.ts";
import { decodePluginState, encodePluginState, GO_KEYS, type PluginState } from "./plugin_data.ts";

/** Returns the next state, or null to write nothing. Must be pure: it may run several times. */
export type StateChange = (current: PluginState | null) => PluginState | null;

export class PluginStateStore {
  constructor(private readonly source: AccessRequestSource, readonly pluginName: string) {}

  async read(requestId: string): Promise<PluginState | null> {
    const raw = await this.source.getPluginData(requestId, this.pluginName);
    return raw ? decodePluginState(raw) : null;
  }

  /**
   * Applies `change` to the stored state, retrying on concurrent writes. Returns
   * the state as written, or the current one when `change` wrote nothing.
   */
  async modify(requestId: string, change: StateChange, signal?: AbortSignal): Promise<PluginState | null> {
    return await casRetry(async () => {
      const raw = await this.source.getPluginData(requestId, this.pluginName);
      const current = raw ? decodePluginState(raw) : null;
      const next = change(current);
      if (!next) return current;
      const set = encodePluginState(next);
      await this.source.updatePluginData(requestId, this.pluginName, set, expectationOf(raw, set));
      return next;
    }, { signal });
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
