/**
 * The viewer page: reads the server's settings, builds state, renderer and panels, and shows the network
 * named in the address (`?network=NAME`), else the server's initial one, else the newest processed file.
 * `?test=1` stops the orbit and exposes `window.nnscapeViewer` for browser tests.
 */

import GUI from "lil-gui";
import { api } from "./api.js";
import type { ClassView } from "./colours.js";
import { type LoadTimings, NetworkLoader } from "./loader.js";
import { flatten, type SettingValue, ViewerState } from "./state.js";
import { ClassPanel } from "./ui/classPanel.js";
import { bindDrop, bindKeys } from "./ui/input.js";
import { NetworkPanel, newestProcessed } from "./ui/networkPanel.js";
import { ProcessingPanel } from "./ui/processingPanel.js";
import { RenderPanel } from "./ui/renderPanel.js";
import { defaults } from "./ui/settings.js";
import { StatsPanel } from "./ui/statsPanel.js";
import { Status } from "./ui/status.js";
import { Viewer } from "./view/Viewer.js";

/** What browser tests may drive; they still judge the result by the canvas's pixels. */
export interface TestHooks {
  readonly framesRendered: number;
  readonly loaded: boolean;
  readonly network: string | null;
  /** Where the last load spent its time. */
  readonly timings: Readonly<LoadTimings>;
  setRender(key: string, value: SettingValue): void;
  /** "independent", "all", a class index or a class name. */
  setClassView(view: ClassView | string): void;
  setCamera(preset: number): void;
  setRotating(rotating: boolean): void;
}

declare global {
  interface Window {
    nnscapeViewer?: TestHooks;
  }
}

/** A class view from "independent", "all", a class index or a class name; anything else is an error. */
function classView(view: ClassView | string, classNames: readonly string[]): ClassView {
  if (view === "independent" || view === "all") return view;
  const index = typeof view === "number" ? view : classNames.indexOf(view);
  if (!Number.isInteger(index) || index < 0 || index >= classNames.length) {
    const allowed = `"independent", "all" or one of the ${classNames.length} classes`;
    throw new RangeError(`class view ${JSON.stringify(view)}: expected ${allowed}`);
  }
  return index;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const testMode = params.get("test") === "1";
  const status = new Status(document.getElementById("message") as HTMLElement);
  status.info("Starting …", "loading");

  const [renderSchema, processingSchema, renderConfig, processingConfig] = await Promise.all([
    api.schema("rendering"),
    api.schema("processing"),
    api.config("rendering"),
    api.config("processing"),
  ]);
  const state = new ViewerState();
  state.rotating = !testMode;
  Object.assign(state.render, defaults(renderSchema), flatten(renderConfig));
  const processing = { ...defaults(processingSchema), ...flatten(processingConfig) };

  const viewer = new Viewer(document.getElementById("viewport") as HTMLElement, state, {
    testMode,
    samplesPerUnit: () => Number(processing["sampling_rate"]),
  });
  const loader = new NetworkLoader(state, viewer, status);
  const gui = new GUI({ title: "nnscape" });
  viewer.keepClearOf(gui.domElement);
  new StatsPanel(gui, state, viewer);
  const networks = new NetworkPanel(gui, state, loader, status);
  new ProcessingPanel(gui, processingSchema, processing, state, networks, loader, status);
  new RenderPanel(gui, renderSchema, state, status);
  new ClassPanel(gui, state);
  bindKeys(viewer, state, (error) => status.error(error));
  bindDrop(loader);

  window.nnscapeViewer = {
    get framesRendered() {
      return viewer.framesRendered;
    },
    get loaded() {
      return loader.loaded;
    },
    get network() {
      return state.network?.name ?? null;
    },
    timings: loader.timings,
    setRender: (key, value) => state.setRender(key, value),
    setClassView: (view) => state.setClassView(classView(view, state.network?.data.classNames ?? [])),
    setCamera: (preset) => viewer.setPreset(preset),
    setRotating: (rotating) => state.setRotating(rotating),
  };

  const entries = await networks.refresh();
  const first = params.get("network") ?? (await api.initial()).network ?? newestProcessed(entries);
  if (first === null) {
    status.info("No network in the folder yet: generate one (Network panel) or drop a .nnscape file here.", "empty");
    return;
  }
  networks.select(first);
  await loader.fromServer(first);
}

main().catch((error: unknown) => {
  const message = document.getElementById("message");
  if (message !== null) new Status(message).error(error);
});
