/**
 * The notebook widget (`nnscape.show`): an anywidget module running the same viewer in the output area, with
 * no server. The network file arrives as a binary buffer (trait `network`), the settings tables in `payload`;
 * `render`, `class_view` and `rotating` are kept in step both ways (Python ↔ panel); `camera` and `height`
 * follow Python.
 * The widget's element carries `data-state` like the page's body.
 */

import { classView, type RunningViewer, startViewer } from "./app.js";
import type { ClassView } from "./colours.js";
import { type Payload, payloadSource } from "./source.js";
import type { SettingValue } from "./state.js";

/** The part of anywidget's model this widget uses. */
interface Model {
  get(name: "network"): DataView | ArrayBuffer;
  get(name: "payload"): Payload;
  get(name: "render"): Record<string, SettingValue>;
  get(name: "class_view"): ClassView | string;
  get(name: "camera"): number;
  get(name: "rotating"): boolean;
  get(name: "height"): number;
  set(name: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: () => void): void;
  off(event: string, callback: () => void): void;
}

const PANEL_STYLE = "position:absolute;top:0;right:0;max-height:100%;overflow:auto;z-index:1";
const MESSAGE_STYLE =
  "position:absolute;left:8px;bottom:8px;max-width:60ch;font:13px system-ui,sans-serif;color:#333;" +
  "background:rgba(255,255,255,0.85);padding:2px 6px;border-radius:4px;pointer-events:none";

function bufferOf(data: DataView | ArrayBuffer): ArrayBuffer {
  if (data instanceof ArrayBuffer) return data;
  // A copy: the view may sit inside a larger message buffer, and the viewer keeps the bytes.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice().buffer;
}

function element(parent: HTMLElement, style: string): HTMLElement {
  const child = document.createElement("div");
  child.style.cssText = style;
  parent.appendChild(child);
  return child;
}

/** Python → viewer for every synced trait, and viewer → Python for what the panel or keys change. */
function keepInStep(model: Model, running: RunningViewer, root: HTMLElement): () => void {
  const { state, viewer } = running;
  const fromPython: Record<string, () => void> = {
    "change:render": () => state.setRenderAll(model.get("render")),
    "change:class_view": () =>
      state.setClassView(classView(model.get("class_view"), state.network?.data.classNames ?? [])),
    "change:camera": () => viewer.setPreset(model.get("camera")),
    "change:rotating": () => state.setRotating(model.get("rotating")),
    "change:height": () => {
      root.style.height = `${model.get("height")}px`;
    },
  };
  for (const [event, callback] of Object.entries(fromPython)) model.on(event, callback);
  const unsubscribe = state.subscribe((change) => {
    if (change === "render") {
      const current = model.get("render");
      if (Object.entries(state.render).some(([key, value]) => current[key] !== value)) {
        model.set("render", { ...state.render });
        model.save_changes();
      }
    } else if (change === "classView" && model.get("class_view") !== state.classView) {
      model.set("class_view", state.classView);
      model.save_changes();
    } else if (change === "rotation" && model.get("rotating") !== state.rotating) {
      model.set("rotating", state.rotating);
      model.save_changes();
    }
  });
  return () => {
    unsubscribe();
    for (const [event, callback] of Object.entries(fromPython)) model.off(event, callback);
  };
}

async function render({ model, el }: { model: Model; el: HTMLElement }): Promise<() => void> {
  const root = element(el, `position:relative;width:100%;height:${model.get("height")}px;background:#fff`);
  root.tabIndex = 0; // keys (H, K, 0-9) reach the viewer only while it has the focus
  root.classList.add("nnscape-widget");
  const viewport = element(root, "position:absolute;inset:0");
  const panels = element(root, PANEL_STYLE);
  const message = element(root, MESSAGE_STYLE);
  const payload: Payload = {
    ...model.get("payload"),
    render: model.get("render"),
    class_view: model.get("class_view"),
    camera: model.get("camera"),
    rotating: model.get("rotating"),
  };
  const source = payloadSource(payload, bufferOf(model.get("network")));
  const running = await startViewer({ viewport, message, stateElement: root, panels, keys: root }, source, false);
  await running.ready;
  const stopSync = keepInStep(model, running, root);
  return () => {
    stopSync();
    running.dispose();
    root.remove();
  };
}

export default { render };
