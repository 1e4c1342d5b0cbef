/**
 * The viewer wired together over any `Source`: state, renderer, loader and panels in a root element. The
 * page (main.ts) and the notebook widget (widget.ts) both start it; only the data source differs.
 * The first network is drawn as soon as its bytes and the settings are there; panels are built after it.
 */

import GUI from "lil-gui";
import type { ClassView } from "./colours.js";
import { type LoadTimings, NetworkLoader } from "./loader.js";
import type { Source } from "./source.js";
import { type SettingValue, ViewerState } from "./state.js";
import { ClassPanel } from "./ui/classPanel.js";
import { bindDrop, bindKeys } from "./ui/input.js";
import { NetworkPanel } from "./ui/networkPanel.js";
import { ProcessingPanel } from "./ui/processingPanel.js";
import { RenderPanel } from "./ui/renderPanel.js";
import { StatsPanel } from "./ui/statsPanel.js";
import { Status } from "./ui/status.js";
import type { MemoryUse } from "./view/NetworkView.js";
import { Viewer } from "./view/Viewer.js";
import { ImmersiveView } from "./xr/ImmersiveView.js";

/** What browser tests may drive; they still judge the result by the canvas's pixels. */
export interface TestHooks {
  /** Finished pictures drawn so far. */
  readonly framesRendered: number;
  /** Frames drawn so far, including the steps of a progressive picture. */
  readonly framesDrawn: number;
  /** Edge samples of the current picture drawn so far, and how many it will have. */
  readonly progress: { readonly drawn: number; readonly shown: number };
  /** Bytes held for the network: the file, the arrays derived from it, the GPU buffers. */
  readonly memory: MemoryUse;
  readonly loaded: boolean;
  readonly network: string | null;
  /** Where the last load spent its time. */
  readonly timings: Readonly<LoadTimings>;
  setRender(key: string, value: SettingValue): void;
  /** "independent", "all", a class index or a class name. */
  setClassView(view: ClassView | string): void;
  setCamera(preset: number): void;
  setRotating(rotating: boolean): void;
  /**
   * From the next picture on, stop each after its first frame, of at most `samples` edge samples (the
   * strongest); null lets a held picture finish.
   */
  holdPicture(samples: number | null): void;
  /** The canvas as a PNG data URL at its full size (what key K saves). */
  screenshot(): Promise<string>;
}

declare global {
  interface Window {
    nnscapeViewer?: TestHooks;
  }
}

/** Where the viewer lives on the page. */
export interface Mount {
  /** The canvas's parent; the viewer fills it. */
  readonly viewport: HTMLElement;
  /** The one-line status message. */
  readonly message: HTMLElement;
  /** Carries `data-state` (and `data-error`, `data-job`) for scripts and tests. */
  readonly stateElement: HTMLElement;
  /** Where the panels go (default: fixed at the page's top right). */
  readonly panels?: HTMLElement;
  /** Where keys are heard (default: the window). */
  readonly keys?: EventTarget;
}

/** The running viewer, for its host (the widget keeps it in step with Python). */
export interface RunningViewer {
  readonly state: ViewerState;
  readonly viewer: Viewer;
  readonly hooks: TestHooks;
  /** Everything drawn from the source's first network (rejects if it failed). */
  readonly ready: Promise<void>;
  dispose(): void;
}

/** A class view from "independent", "all", a class index or a class name; anything else is an error. */
export function classView(view: ClassView | string, classNames: readonly string[]): ClassView {
  if (view === "independent" || view === "all") return view;
  const index = typeof view === "number" ? view : classNames.indexOf(view);
  if (!Number.isInteger(index) || index < 0 || index >= classNames.length) {
    const allowed = `"independent", "all" or one of the ${classNames.length} classes`;
    throw new RangeError(`class view ${JSON.stringify(view)}: expected ${allowed}`);
  }
  return index;
}

/** Start the viewer in `mount` on `source`; `testMode` fixes the pixel ratio and stops the orbit. */
export async function startViewer(mount: Mount, source: Source, testMode: boolean): Promise<RunningViewer> {
  const status = new Status(mount.message, mount.stateElement);
  status.info("Starting …", "loading");
  const [settings, first] = await Promise.all([source.settings, source.network]);

  const state = new ViewerState();
  state.rotating = !testMode && (source.view.rotating ?? true);
  Object.assign(state.render, settings.render);
  const processing = { ...settings.processing };
  const viewer = new Viewer(mount.viewport, state, {
    testMode,
    samplesPerUnit: () => Number(processing["sampling_rate"]),
  });
  const edgeModes = settings.renderSchema.find((setting) => setting.key === "edge_mode")?.choices ?? [];
  const immersive = new ImmersiveView(viewer, state, edgeModes.map(String), mount.viewport);
  const loader = new NetworkLoader(state, viewer, status);
  const setClassView = (view: ClassView | string): void =>
    state.setClassView(classView(view, state.network?.data.classNames ?? []));

  let ready: Promise<void> = Promise.resolve();
  if (first === null) {
    status.info("No network in the folder yet: generate one (Network panel) or drop a .nnscape file here.", "empty");
  } else {
    ready = loader.fromBytes(first.name, first.bytes, source.server).then(() => {
      if (source.view.classView !== undefined) setClassView(source.view.classView);
      if (source.view.camera !== undefined) viewer.setPreset(source.view.camera);
    });
  }

  const gui = new GUI(mount.panels === undefined ? { title: "nnscape" } : { title: "nnscape", container: mount.panels });
  if (source.view.panels === false) gui.hide();
  else viewer.keepClearOf(gui.domElement);
  const stats = new StatsPanel(gui, state, viewer);
  const networks = new NetworkPanel(gui, state, loader, status, source.server);
  if (source.server) {
    new ProcessingPanel(gui, settings.processingSchema, processing, state, networks, loader, status);
  }
  new RenderPanel(gui, settings.renderSchema, state, status, source.server);
  new ClassPanel(gui, state);
  const unbindKeys = bindKeys(mount.keys ?? window, viewer, state, (error) => status.error(error));
  const unbindDrop = bindDrop(mount.keys ?? window, mount.stateElement, loader);
  if (source.server) {
    void networks.refresh().then(() => {
      if (first !== null) networks.select(first.name);
    });
  }

  const hooks: TestHooks = {
    get framesRendered() {
      return viewer.framesRendered;
    },
    get framesDrawn() {
      return viewer.framesDrawn;
    },
    get progress() {
      return viewer.networkView.progress;
    },
    get memory() {
      return viewer.networkView.memory;
    },
    get loaded() {
      return loader.loaded;
    },
    get network() {
      return state.network?.name ?? null;
    },
    timings: loader.timings,
    setRender: (key, value) => state.setRender(key, value),
    setClassView,
    setCamera: (preset) => viewer.setPreset(preset),
    setRotating: (rotating) => state.setRotating(rotating),
    holdPicture: (samples) => {
      viewer.heldPicture = samples;
    },
    screenshot: async () => blobDataUrl(await viewer.screenshot()),
  };
  return {
    state,
    viewer,
    hooks,
    ready,
    dispose: () => {
      unbindKeys();
      unbindDrop();
      stats.dispose();
      gui.destroy();
      immersive.dispose();
      viewer.dispose();
    },
  };
}

function blobDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("cannot read the screenshot"));
    reader.readAsDataURL(blob);
  });
}
