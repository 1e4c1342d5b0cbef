/**
 * The three.js side: renderer, camera, orbit controls, the network view and the frame loop. Frames are drawn
 * only when something changed, the orbit turns or a picture is still filling in (NetworkView draws a large
 * network over several frames, each adding to the last), so an idle viewer costs nothing.
 */

import { Box3, Color, PerspectiveCamera, Scene, Vector3, WebGLRenderer } from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";
import type { ViewerState } from "../state.js";
import {
  correctFit,
  DEFAULT_PRESET,
  FIELD_OF_VIEW_DEGREES,
  type FitElements,
  fitCamera,
  type InkBox,
  inkBox,
  presetDirection,
} from "./camera.js";
import { DetailGovernor } from "./detail.js";
import { NetworkView } from "./NetworkView.js";
import { ResolutionGovernor } from "./resolution.js";

const BACKGROUND = 0xffffff;
const ORBIT_SPEED = 1.0; // OrbitControls units: 2 = one turn per 30 s
const FPS_WINDOW_MS = 1000;
// What the camera frames before a network is loaded.
const EMPTY_SCENE_BOX = new Box3(new Vector3(-0.5, -0.5, -0.5), new Vector3(0.5, 0.5, 0.5));
const EMPTY_SCENE_ELEMENTS: FitElements = {
  points: new Float32Array([-0.5, -0.5, -0.5, 0.5, 0.5, 0.5]),
  radii: new Float32Array(2),
  areas: new Float32Array([1, 1]),
  layers: new Int32Array(0),
};
// Frames drawn to correct a fit by its ink (each corrects most of what is left), and what counts as ink: some
// channel more than INK_THRESHOLD below white (the picture figure's definition, docs/viewer.md).
const INK_PASSES = 3;
const WHITE = 255;
const INK_THRESHOLD = 8;
// Edge samples (the strongest, in draw order) the correcting frames draw.
const INK_SAMPLES = 16_384;
// A panel narrower than this share of the canvas is framed around; a wider one (a small window) is ignored.
const MAX_PANEL_SHARE = 0.5;

export interface ViewerOptions {
  /** Deterministic frames for tests: no device pixel ratio, and each frame finished before it counts. */
  readonly testMode: boolean;
  readonly samplesPerUnit: () => number;
}

export class Viewer {
  readonly renderer: WebGLRenderer;
  readonly camera = new PerspectiveCamera(FIELD_OF_VIEW_DEGREES, 1, 0.01, 100);
  readonly controls: OrbitControls;
  readonly networkView: NetworkView;
  /** Finished pictures drawn so far: frames after which the canvas shows everything (tests wait on it). */
  framesRendered = 0;
  /** Frames drawn so far, finished pictures or steps of one. */
  framesDrawn = 0;
  private measuredFps = 0;
  readonly scene = new Scene();
  private needsRender = true;
  /** Whether the camera moved since the last frame (the orbit, the mouse, a preset). */
  private moved = false;
  private readonly pixelRatio: number;
  private readonly governor = new ResolutionGovernor();
  private readonly detail = new DetailGovernor();
  /** Whether the frame loop's previous tick drew a frame. */
  private drewLastTick = false;
  /** Tests: pictures stop after their first frame, of at most this many edge samples (null: no hold). */
  heldPicture: number | null = null;
  private running = true;
  private lastTime = performance.now();
  private fpsWindowStart = performance.now();
  private fpsFrames = 0;
  private readonly probe = new Uint8Array(4);
  private readonly resizeObserver: ResizeObserver;
  private readonly unsubscribe: () => void;
  private readonly tick = (now: number): void => this.frame(now);
  private onFrameListeners: (() => void)[] = [];
  private onPictureListeners: (() => void)[] = [];
  /** The control panel floating over the canvas's right side: framing keeps the network beside it. */
  private panel: HTMLElement | null = null;
  /** Width of the canvas the panel leaves free, over its height. */
  private freeAspect = 1;
  private readonly direction = new Vector3();
  /** Layer sizes ("784-81-49-10") of the network the camera was last framed for. */
  private framedLayers: string | null = null;
  /** Runs before each frame of an immersive (WebXR) session, which draws every frame the headset asks for. */
  xrFrame: ((seconds: number) => void) | null = null;

  constructor(
    private readonly container: HTMLElement,
    private readonly state: ViewerState,
    private readonly options: ViewerOptions,
  ) {
    // The drawing buffer is kept between frames: a progressive picture draws on top of the previous frame.
    this.renderer = new WebGLRenderer({ antialias: false, alpha: false, preserveDrawingBuffer: true });
    this.pixelRatio = options.testMode ? 1 : window.devicePixelRatio;
    this.renderer.setPixelRatio(this.pixelRatio);
    // A clear colour, not a scene background: three clears a background at every frame, even a progressive one.
    this.renderer.setClearColor(new Color(BACKGROUND), 1);
    container.appendChild(this.renderer.domElement);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.autoRotateSpeed = ORBIT_SPEED;
    this.controls.addEventListener("change", () => {
      this.moved = true;
      this.invalidate();
    });
    this.networkView = new NetworkView(state, options.samplesPerUnit);
    this.scene.add(this.networkView.group);
    this.unsubscribe = state.subscribe((change) => {
      if (change === "network") this.networkChanged();
      this.controls.autoRotate = state.rotating;
      this.invalidate();
    });
    this.controls.autoRotate = state.rotating;
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(container);
    this.resize();
    // The renderer's loop: the window's frames on screen, the headset's during a WebXR session.
    this.renderer.setAnimationLoop(this.tick);
  }

  /** Frames per second over the last second; 0 while nothing moves (no frames are drawn then). */
  get fps(): number {
    return performance.now() - this.fpsWindowStart > 2 * FPS_WINDOW_MS ? 0 : this.measuredFps;
  }

  /** Draw a new frame at the next opportunity. */
  invalidate(): void {
    this.needsRender = true;
  }

  /** Call `listener` once after the next frame is drawn (perhaps the first step of a progressive picture). */
  afterNextFrame(listener: () => void): void {
    this.onFrameListeners.push(listener);
    this.invalidate();
  }

  /** Call `listener` once after the next finished picture. */
  afterNextPicture(listener: () => void): void {
    this.onPictureListeners.push(listener);
    this.invalidate();
  }

  /**
   * A network of another architecture is framed from the default preset; one of the same layer sizes keeps the
   * camera, so that variants (untrained, trained, L1) or processing stages compare at one scale. Key F re-fits.
   */
  private networkChanged(): void {
    const layers = this.state.network?.data.layerSizes.join("-") ?? null;
    if (layers === null || layers !== this.framedLayers) this.setPreset(DEFAULT_PRESET);
    this.framedLayers = layers;
  }

  /** Frame the network beside `panel` (which floats over the canvas's right side) from now on. */
  keepClearOf(panel: HTMLElement): void {
    this.panel = panel;
    this.resize();
  }

  /** Look from camera preset `index` at the network's centre, fitted to the free canvas. */
  setPreset(index: number): void {
    this.fitAlong(presetDirection(index, this.direction));
  }

  /** Fit the network to the free canvas again, keeping the direction the camera looks from (key F). */
  fit(): void {
    this.direction.subVectors(this.camera.position, this.controls.target);
    if (this.direction.lengthSq() === 0) this.direction.set(0, 0, 1);
    this.fitAlong(this.direction.normalize());
  }

  /**
   * Look along `direction` at the network's centre, then fit: the same direction always gives the same view.
   * The fit from the elements' sizes is then corrected by what it draws (INK_PASSES frames nobody sees).
   */
  private fitAlong(direction: Vector3): void {
    const box = this.networkView.layoutBox;
    const target = this.controls.target;
    (box.isEmpty() ? EMPTY_SCENE_BOX : box).getCenter(target);
    const elements = this.networkView.fitElements;
    const fit = { elements: elements.points.length > 0 ? elements : EMPTY_SCENE_ELEMENTS, aspect: this.freeAspect };
    fitCamera(this.camera, target, direction, fit);
    for (let pass = 0; pass < INK_PASSES && !this.renderer.xr.isPresenting; pass++) {
      const ink = this.drawnInk();
      if (ink === null) break;
      correctFit(this.camera, target, direction, fit, ink);
    }
    this.controls.update();
    this.moved = true;
    this.invalidate();
  }

  /** Draw the scene from the current camera and find the robust box of its ink (null when nothing is drawn). */
  private drawnInk(): InkBox | null {
    // The strongest samples only: they make the picture's outline, and drawing every sample three times would
    // hold the first frame back by seconds on a software renderer (it is what progressive drawing avoids).
    this.networkView.startPicture(INK_SAMPLES);
    this.renderer.autoClear = true;
    this.camera.updateMatrixWorld();
    this.networkView.updateCamera(this.camera, this.renderer.getPixelRatio());
    this.renderer.render(this.scene, this.camera);
    const gl = this.renderer.getContext();
    const width = gl.drawingBufferWidth;
    const height = gl.drawingBufferHeight;
    const pixels = new Uint8Array(4 * width * height);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    const canvasWidth = Math.max(1, this.container.clientWidth);
    const freeWidth = (width * (canvasWidth - this.coveredWidth(canvasWidth))) / canvasWidth;
    const drawn = (column: number, row: number): boolean => {
      const i = 4 * (row * width + column);
      const darkest = Math.min(pixels[i] as number, pixels[i + 1] as number, pixels[i + 2] as number);
      return WHITE - darkest > INK_THRESHOLD;
    };
    return inkBox(drawn, width, height, freeWidth);
  }

  /** A PNG of the current view at the canvas's full drawing-buffer size. */
  screenshot(): Promise<Blob> {
    this.setResolution(1);
    this.render(); // the whole picture in one frame
    return new Promise((resolve, reject) => {
      const done = (blob: Blob | null): void => {
        if (blob === null) reject(new Error("screenshot failed"));
        else resolve(blob);
      };
      this.renderer.domElement.toBlob(done, "image/png");
    });
  }

  private setResolution(scale: number): void {
    const ratio = this.pixelRatio * scale;
    if (ratio !== this.renderer.getPixelRatio()) this.renderer.setPixelRatio(ratio);
  }

  /** Match the canvas to its container; centre the projection on the free canvas and fit it again. */
  private resize(): void {
    if (this.renderer.xr.isPresenting) return; // the headset sets the size then
    const width = Math.max(1, this.container.clientWidth);
    const height = Math.max(1, this.container.clientHeight);
    this.renderer.setSize(width, height, false);
    const covered = this.coveredWidth(width);
    // The canvas is the right part of a wider virtual view whose centre is the free canvas's centre.
    this.camera.aspect = (width + covered) / height;
    if (covered > 0) this.camera.setViewOffset(width + covered, height, covered, 0, width, height);
    else this.camera.clearViewOffset();
    this.freeAspect = (width - covered) / height;
    this.fit();
  }

  /** CSS pixels of the canvas's right side the panel covers (0 without a panel, or when it is too wide). */
  private coveredWidth(width: number): number {
    if (this.panel === null) return 0;
    const panel = this.panel.getBoundingClientRect();
    const canvas = this.container.getBoundingClientRect();
    const covered = canvas.right - panel.left;
    if (panel.width === 0 || covered <= 0 || panel.left >= canvas.right) return 0;
    return covered <= MAX_PANEL_SHARE * width ? covered : 0;
  }

  private frame(now: number): void {
    if (!this.running) return;
    const seconds = (now - this.lastTime) / 1000;
    this.lastTime = now;
    if (this.xrFrame !== null && this.renderer.xr.isPresenting) {
      this.xrFrame(seconds);
      this.render();
      return;
    }
    if (this.state.rotating) this.controls.update(seconds);
    if (!this.options.testMode && !this.needsRender && this.governor.wantsFullFrame(now)) this.needsRender = true;
    const following = this.drewLastTick;
    this.drewLastTick = this.needsRender || (!this.networkView.complete && this.heldPicture === null);
    if (!this.drewLastTick) return;
    const budget = Math.min(this.detail.budget(now, following), this.heldPicture ?? Infinity);
    if (this.needsRender) {
      // Tests want every frame alike, so only interactive use trades resolution for speed.
      this.setResolution(this.options.testMode ? 1 : this.governor.frame(now, this.moved));
      this.moved = false;
      this.networkView.startPicture(budget);
      this.draw(true);
      this.detail.drew(now, this.networkView.progress.drawn);
    } else {
      const before = this.networkView.progress.drawn;
      this.networkView.continuePicture(budget);
      this.draw(false);
      this.detail.drew(now, this.networkView.progress.drawn - before);
    }
  }

  /** Draw everything in one frame (a screenshot, a headset frame). */
  private render(): void {
    this.networkView.showAll();
    this.draw(true);
  }

  /** Draw the frame NetworkView has set up; `clear`: a new picture, else on top of the previous frame. */
  private draw(clear: boolean): void {
    this.needsRender = false;
    this.renderer.autoClear = clear;
    this.camera.updateMatrixWorld();
    this.networkView.updateCamera(this.camera, this.renderer.getPixelRatio());
    this.renderer.render(this.scene, this.camera);
    if (this.options.testMode) {
      // Reading one pixel waits for the GPU, so a counted frame is a finished frame.
      const gl = this.renderer.getContext();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, this.probe);
    }
    this.framesDrawn++;
    this.countFps();
    const listeners = this.onFrameListeners;
    this.onFrameListeners = [];
    if (this.networkView.complete) {
      this.framesRendered++;
      listeners.push(...this.onPictureListeners);
      this.onPictureListeners = [];
    }
    for (const listener of listeners) listener();
  }

  private countFps(): void {
    this.fpsFrames++;
    const now = performance.now();
    if (now - this.fpsWindowStart >= FPS_WINDOW_MS) {
      this.measuredFps = (this.fpsFrames * 1000) / (now - this.fpsWindowStart);
      this.fpsFrames = 0;
      this.fpsWindowStart = now;
    }
  }

  dispose(): void {
    this.running = false;
    this.renderer.setAnimationLoop(null);
    this.unsubscribe();
    this.resizeObserver.disconnect();
    this.controls.dispose();
    this.networkView.dispose();
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}
