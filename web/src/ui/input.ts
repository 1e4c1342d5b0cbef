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

export function bindKeys(viewer: Viewer, state: ViewerState, onError: (error: unknown) => void): void {
  window.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target instanceof HTMLElement && TYPING.has(event.target.tagName)) return;
    const key = event.key.toLowerCase();
    if (key === "h") state.setRotating(!state.rotating);
    else if (key === "k") downloadScreenshot(viewer, state).catch(onError);
    else if (key === "f") viewer.fit();
    else if (/^[0-9]$/.test(key) && Number(key) < PRESET_COUNT) viewer.setPreset(Number(key));
    else return;
    event.preventDefault();
  });
}

export function bindDrop(loader: NetworkLoader): void {
  const body = document.body;
  window.addEventListener("dragover", (event) => {
    event.preventDefault();
    body.classList.add("dragging");
  });
  window.addEventListener("dragleave", () => body.classList.remove("dragging"));
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    body.classList.remove("dragging");
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) void loader.fromFile(file);
  });
}
