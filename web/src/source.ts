/**
 * Where the viewer's data comes from: the server (its settings and folder), or a payload with no server (a
 * standalone HTML export, the notebook widget). Either way the viewer gets the same `Source`, and the panels
 * that need a server (folder list, processing jobs, saving settings there) are built only when `server` is set.
 */

import { api, type NetworkEntry } from "./api.js";
import type { ClassView } from "./colours.js";
import { flatten, type Setting, type SettingValue } from "./state.js";
import { defaults } from "./ui/settings.js";

/** Both configs' schemas and their current flat values. */
export interface Settings {
  readonly renderSchema: readonly Setting[];
  readonly processingSchema: readonly Setting[];
  readonly render: Record<string, SettingValue>;
  readonly processing: Record<string, SettingValue>;
}

/** A network file's name and its bytes, which may still be on their way. */
export interface NetworkBytes {
  readonly name: string;
  readonly bytes: Promise<ArrayBuffer>;
}

/** How the view starts; anything left out keeps the viewer's default. */
export interface ViewOptions {
  /** "independent", "all", a class index or a class name. */
  readonly classView?: ClassView | string;
  /** Camera preset 0-9. */
  readonly camera?: number;
  readonly rotating?: boolean;
  /** False: no control panel (a headless render), so the network is framed on the whole canvas. */
  readonly panels?: boolean;
}

export interface Source {
  /** True when a server is behind the page (its API can be called). */
  readonly server: boolean;
  readonly settings: Promise<Settings>;
  /** The network to show first (null: none yet); its bytes are requested at the same time as the settings. */
  readonly network: Promise<NetworkBytes | null>;
  readonly view: ViewOptions;
}

/**
 * The payload of a page or widget without a server, as `nnscape.export.payload` writes it (JSON; the network's
 * bytes base64-encoded in a page, a binary buffer in the widget).
 */
export interface Payload {
  readonly name: string;
  readonly render_schema: readonly Setting[];
  readonly processing_schema: readonly Setting[];
  readonly render: Record<string, SettingValue>;
  readonly processing: Record<string, SettingValue>;
  readonly class_view?: ClassView | string;
  readonly camera?: number;
  readonly rotating?: boolean;
  readonly panels?: boolean;
}

/** Id of the `<script type="application/json">` element holding a page's payload. */
export const PAYLOAD_ELEMENT = "nnscape-payload";

/** The file to show first: the newest processed file, else the newest file, else none. */
export function newestProcessed(entries: readonly NetworkEntry[]): string | null {
  const usable = entries.filter((e) => e.broken !== true);
  const newer = (best: NetworkEntry | undefined, e: NetworkEntry): NetworkEntry | undefined =>
    best === undefined || (e.modified ?? 0) > (best.modified ?? 0) ? e : best;
  const newest = (list: NetworkEntry[]): NetworkEntry | undefined => list.reduce(newer, undefined);
  return (newest(usable.filter((e) => e.kind === "processed")) ?? newest(usable))?.name ?? null;
}

/**
 * The server's data, every request started at once: the network named `network` (else the server's initial
 * one, else the newest processed file) does not wait for the settings, nor the settings for it.
 */
export function serverSource(network: string | null): Source {
  const settings = Promise.all([
    api.schema("rendering"),
    api.schema("processing"),
    api.config("rendering"),
    api.config("processing"),
  ]).then(([renderSchema, processingSchema, render, processing]) => ({
    renderSchema,
    processingSchema,
    render: { ...defaults(renderSchema), ...flatten(render) },
    processing: { ...defaults(processingSchema), ...flatten(processing) },
  }));
  const first = async (): Promise<NetworkBytes | null> => {
    let name = network;
    if (name === null) {
      const [initial, entries] = await Promise.all([api.initial(), api.listNetworks()]);
      name = initial.network ?? newestProcessed(entries);
    }
    return name === null ? null : { name, bytes: api.networkBytes(name) };
  };
  return { server: true, settings, network: first(), view: {} };
}

/** A payload's data; `bytes` is the network file. */
export function payloadSource(payload: Payload, bytes: ArrayBuffer): Source {
  const view: { -readonly [K in keyof ViewOptions]: ViewOptions[K] } = {};
  if (payload.class_view !== undefined) view.classView = payload.class_view;
  if (payload.camera !== undefined) view.camera = payload.camera;
  if (payload.rotating !== undefined) view.rotating = payload.rotating;
  if (payload.panels !== undefined) view.panels = payload.panels;
  return {
    server: false,
    settings: Promise.resolve({
      renderSchema: payload.render_schema,
      processingSchema: payload.processing_schema,
      render: { ...defaults(payload.render_schema), ...payload.render },
      processing: { ...defaults(payload.processing_schema), ...payload.processing },
    }),
    network: Promise.resolve({ name: payload.name, bytes: Promise.resolve(bytes) }),
    view,
  };
}

/** The page's embedded payload (network bytes as base64 in `network`), or null for a page served by nnscape. */
export function embeddedSource(document: Document): Source | null {
  const element = document.getElementById(PAYLOAD_ELEMENT);
  if (element === null) return null;
  const payload = JSON.parse(element.textContent ?? "") as Payload & { readonly network: string };
  return payloadSource(payload, base64Bytes(payload.network));
}

function base64Bytes(text: string): ArrayBuffer {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}
