/**
 * Plugin data under the name `opsgenie`: upstream's App-path keys (spec §1.7:
 * `alert_id`, `service_id` plus the shared request keys) and our extra keys, one of
 * them the alert's alias so notes and the close never depend on the id.
 */
import type { Notification, PluginStateCodec } from "../../core/backend.ts";
import type { PluginState } from "../../core/state.ts";
import type { PluginDataMap } from "../../core/types.ts";
import { decodeExtras, decodeRequestKeys, encodeExtras, encodeRequestKeys } from "../plugin_data_extras.ts";

/** The one notification key: Opsgenie gets one alert for all responders. */
export const ALERT_KEY = "";

/** The alert of a request's state, as the backend reads it from a Notification. */
export function alertOf(notification: Notification): { id: string; alias: string } {
  return { id: notification.ids.alertId ?? "", alias: notification.ids.alias ?? "" };
}

export const opsgenieCodec: PluginStateCodec = {
  encode(state: PluginState): PluginDataMap {
    const alert = state.notifications[0];
    return {
      alert_id: alert?.ids.alertId ?? "",
      // Upstream declares it and never sets it; kept empty so its decoder is content.
      service_id: "",
      ...encodeRequestKeys(state),
      ...encodeExtras(state, { alert_alias: alert?.ids.alias ?? "" }),
    };
  },
  decode(data: PluginDataMap): PluginState {
    const alertId = data.alert_id ?? "";
    const notifications: Notification[] = alertId
      ? [{ key: ALERT_KEY, ids: { alertId, alias: data.alert_alias ?? "" } }]
      : [];
    return { ...decodeExtras(data), ...decodeRequestKeys(data), notifications };
  },
};
