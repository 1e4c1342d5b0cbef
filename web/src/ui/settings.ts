/** lil-gui controllers built from the server's setting schema (`Setting.as_json()`), bound to a plain record. */

import type { Controller, GUI } from "lil-gui";
import type { Setting, SettingValue } from "../state.js";

const FLOAT_STEP = 0.001;

/** A readable label from a key: `edges.importance_opacity` → `importance opacity`. */
export function label(key: string): string {
  return (key.split(".").pop() ?? key).replaceAll("_", " ");
}

/** Add one controller for `setting` on `values[setting.key]`; `changed` gets every new value. */
export function addSetting(
  folder: GUI,
  values: Record<string, SettingValue>,
  setting: Setting,
  changed: (key: string, value: SettingValue) => void,
): Controller {
  let controller: Controller;
  if (setting.choices !== undefined && setting.choices.length > 0) {
    const labelled: Record<string, SettingValue> = {};
    for (const choice of setting.choices) {
      labelled[typeof choice === "string" ? label(choice) : String(choice)] = choice;
    }
    controller = folder.add(values, setting.key, labelled);
  } else if (setting.type === "float" || setting.type === "int") {
    const step = setting.type === "int" ? 1 : FLOAT_STEP;
    // Open ends are excluded: the slider stops one step inside them.
    const low = setting.low === undefined ? undefined : setting.low + (setting.low_open === true ? step : 0);
    const high = setting.high === undefined ? undefined : setting.high - (setting.high_open === true ? step : 0);
    controller = folder.add(values, setting.key, low, high, step);
  } else {
    controller = folder.add(values, setting.key);
  }
  controller.name(label(setting.key));
  controller.domElement.title = `${setting.doc} (${setting.range})`;
  controller.onChange((value: SettingValue) => changed(setting.key, value));
  return controller;
}

/** Defaults of a schema as a flat record. */
export function defaults(schema: readonly Setting[]): Record<string, SettingValue> {
  return Object.fromEntries(schema.map((s) => [s.key, s.default]));
}
