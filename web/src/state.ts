/**
 * What is shown, apart from how it is drawn (view/) and how it is edited (ui/): the loaded network, the
 * render settings (flat dotted keys, as the server's schema names them), the class view and the rotation.
 * Renderer and panels subscribe to changes; neither talks to the other directly.
 */

import type { ClassView } from "./colours.js";
import type { NetworkData } from "./format.js";

export type SettingValue = number | string | boolean;

/** One configuration key as the server describes it (`Setting.as_json()` in nnscape.config). */
export interface Setting {
  readonly key: string;
  readonly type: "float" | "int" | "bool" | "choice";
  readonly default: SettingValue;
  readonly doc: string;
  readonly low?: number;
  readonly high?: number;
  readonly low_open?: boolean;
  readonly high_open?: boolean;
  readonly choices?: readonly SettingValue[];
  readonly range: string;
}

export type Change = "network" | "render" | "classView" | "rotation";
type Listener = (change: Change) => void;

/** A loaded network and where it came from (a server file name, or a local file's name). */
export interface LoadedNetwork {
  readonly data: NetworkData;
  readonly name: string;
  /** The file's bytes, kept to save it again. */
  readonly bytes: ArrayBuffer;
  /** True when the file lives in the server's folder (so it can be processed there). */
  readonly onServer: boolean;
}

export class ViewerState {
  network: LoadedNetwork | null = null;
  readonly render: Record<string, SettingValue> = {};
  classView: ClassView = "all";
  rotating = true;
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setNetwork(network: LoadedNetwork): void {
    this.network = network;
    const n = network.data.nClasses;
    if (typeof this.classView === "number" && this.classView >= n) this.classView = "all";
    this.emit("network");
  }

  setRender(key: string, value: SettingValue): void {
    if (!(key in this.render)) throw new Error(`unknown render setting ${JSON.stringify(key)}`);
    this.render[key] = value;
    this.emit("render");
  }

  setRenderAll(values: Readonly<Record<string, SettingValue>>): void {
    Object.assign(this.render, values);
    this.emit("render");
  }

  /** A number from the render settings (the schema guarantees the type). */
  number(key: string): number {
    return Number(this.render[key]);
  }

  setClassView(view: ClassView): void {
    this.classView = view;
    this.emit("classView");
  }

  setRotating(rotating: boolean): void {
    this.rotating = rotating;
    this.emit("rotation");
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) listener(change);
  }
}

/** Flat dotted keys → nested JSON (`{"edges.size": 1}` → `{"edges": {"size": 1}}`), as the server stores it. */
export function nest(flat: Readonly<Record<string, SettingValue>>): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split(".");
    let node = nested;
    for (const part of parts.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    node[parts[parts.length - 1] as string] = value;
  }
  return nested;
}

/** Nested JSON → flat dotted keys. */
export function flatten(nested: Readonly<Record<string, unknown>>, prefix = ""): Record<string, SettingValue> {
  const flat: Record<string, SettingValue> = {};
  for (const [key, value] of Object.entries(nested)) {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      Object.assign(flat, flatten(value as Record<string, unknown>, `${prefix}${key}.`));
    } else if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
      flat[`${prefix}${key}`] = value;
    }
  }
  return flat;
}
