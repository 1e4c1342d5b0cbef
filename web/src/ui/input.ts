/** Keyboard (H rotation, K screenshot, 0-9 camera presets, F fit) and drag-and-drop of local files. */

import type { NetworkLoader } from "../loader.js";
import type { ViewerState } from "../state.js";
import { PRESET_COUNT } from "../view/camera.js";
import type { Viewer } from "../view/Viewer.js";

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

/** Download the current view as `<network>.png` at the canvas's full size. */
export async function downloadScreenshot(viewer: Viewer, state: ViewerState): Promise<void> {
  const blob = await viewer.screenshot();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${(state.network?.name ?? "nnscape").replace(/\.nnscape$/, "")}.png`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 0);
}

/** Keys heard on `target` (the window, or a widget's element); returns what removes the listener. */
export function bindKeys(
  target: EventTarget,
  viewer: Viewer,
  state: ViewerState,
  onError: (error: unknown) => void,
): () => void {
  const onKey = (event: Event): void => {
    if (!(event instanceof KeyboardEvent)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLElement && TYPING.has(event.target.tagName)) return;
    const key = event.key.toLowerCase();
    if (key === "h") state.setRotating(!state.rotating);
    else if (key === "k") downloadScreenshot(viewer, state).catch(onError);
    else if (key === "f") viewer.fit();
    else if (/^[0-9]$/.test(key) && Number(key) < PRESET_COUNT) viewer.setPreset(Number(key));
    else return;
    event.preventDefault();
  };
  target.addEventListener("keydown", onKey);
  return () => target.removeEventListener("keydown", onKey);
}

/** Files dropped on `target` load; `marked` gets the class "dragging" meanwhile. Returns the unbinding. */
export function bindDrop(target: EventTarget, marked: HTMLElement, loader: NetworkLoader): () => void {
  const listeners: Record<string, (event: Event) => void> = {
    dragover: (event) => {
      event.preventDefault();
      marked.classList.add("dragging");
    },
    dragleave: () => marked.classList.remove("dragging"),
    drop: (event) => {
      event.preventDefault();
      marked.classList.remove("dragging");
      const file = event instanceof DragEvent ? event.dataTransfer?.files[0] : undefined;
      if (file !== undefined) void loader.fromFile(file);
    },
  };
  for (const [type, listener] of Object.entries(listeners)) target.addEventListener(type, listener);
  return () => {
    for (const [type, listener] of Object.entries(listeners)) target.removeEventListener(type, listener);
  };
}
