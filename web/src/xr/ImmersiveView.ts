/**
 * The viewer in a headset (WebXR, immersive VR): an ENTER VR button where the browser offers VR, the network
 * floating at arm's length as it looked on screen, hands that grab it (grip or trigger: one hand moves and
 * turns it, two hands also scale it), A/X cycling the class view and B/Y the edge render mode, and an
 * importance threshold that keeps the drawn edge samples within what a headset GPU draws at its frame rate.
 * The same shaders draw both eyes, so transparency and colours are those of the screen.
 */

/// <reference types="webxr" />

import {
  Matrix4,
  Mesh,
  MeshBasicMaterial,
  type PerspectiveCamera,
  Quaternion,
  SphereGeometry,
  Vector3,
  type XRGripSpace,
} from "three";
import { VRButton } from "three/examples/jsm/webxr/VRButton.js";
import type { ClassView } from "../colours.js";
import type { ViewerState } from "../state.js";
import type { Viewer } from "../view/Viewer.js";
import { Grab } from "./grab.js";
import { thresholdForBudget } from "./lod.js";

/** How far in front of the eyes the network's centre appears, and how far below them (metres). */
const ARM_LENGTH_M = 0.6;
const BELOW_EYES_M = 0.1;
/** The radius of the network's bounding sphere when it appears (metres): about 60 cm across. */
const NETWORK_RADIUS_M = 0.3;
/** Clip planes in the headset (metres): near enough to hold the network close, far enough to push it away. */
const XR_NEAR_M = 0.02;
const XR_FAR_M = 50;
/**
 * Edge samples drawn at most in the headset. Estimated from desktop measurements to hold 72-90 frames per
 * second on a Quest-3-class GPU at its default resolution; see docs/deploy.md.
 */
const XR_SAMPLE_BUDGET = 50_000;
/** xr-standard gamepad buttons (WebXR Gamepads Module): A on the right controller, X on the left; then B / Y. */
const BUTTON_CLASS_VIEW = 4;
const BUTTON_EDGE_MODE = 5;
const HAND_MARKER_RADIUS_M = 0.015;
const HAND_MARKER_COLOUR = 0x808080;
const EDGE_THRESHOLD_KEY = "edges.importance_threshold";
const EDGE_MODE_KEY = "edge_mode";

/** One controller's grip space and whether it holds the network (by grip or trigger). */
interface Hand {
  readonly grip: XRGripSpace;
  squeezing: boolean;
  selecting: boolean;
}

/** The next class view in the cycle all → independent → class 0 → … → class n − 1 → all. */
function nextClassView(view: ClassView, classCount: number): ClassView {
  if (view === "all") return "independent";
  if (view === "independent") return classCount > 0 ? 0 : "all";
  return view + 1 < classCount ? view + 1 : "all";
}

export class ImmersiveView {
  private readonly hands: Hand[] = [];
  private readonly grab = new Grab();
  private readonly held: XRGripSpace[] = [];
  private handsChanged = false;
  private needsPlacement = false;
  /** Buttons pressed in the previous frame, per input source (bit i: button i), to act on presses only. */
  private readonly pressed = new Map<XRInputSource, number>();
  private readonly markerGeometry = new SphereGeometry(HAND_MARKER_RADIUS_M, 12, 8);
  private readonly markerMaterial = new MeshBasicMaterial({ color: HAND_MARKER_COLOUR });
  /** The screen camera, kept while the headset drives the camera. */
  private readonly screenCamera = { position: new Vector3(), quaternion: new Quaternion(), near: 0, far: 0 };
  /** The edge threshold the user had before the headset's budget raised it, and the raised one. */
  private thresholdBefore: number | null = null;
  private thresholdRaised = 0;
  private button: HTMLElement | null = null;
  private readonly objectMatrix = new Matrix4();
  private readonly head = new Vector3();
  private readonly forward = new Vector3();
  private readonly yaw = new Quaternion();
  private readonly up = new Vector3(0, 1, 0);
  private readonly matrices: Matrix4[] = [];
  private readonly onStart = (): void => this.sessionStarted();
  private readonly onEnd = (): void => this.sessionEnded();

  constructor(
    private readonly viewer: Viewer,
    private readonly state: ViewerState,
    private readonly edgeModes: readonly string[],
    private readonly buttonParent: HTMLElement,
  ) {
    const xr = viewer.renderer.xr;
    xr.enabled = true;
    for (let index = 0; index < 2; index++) {
      const grip = xr.getControllerGrip(index);
      grip.add(new Mesh(this.markerGeometry, this.markerMaterial));
      const hand: Hand = { grip, squeezing: false, selecting: false };
      const holding = (squeezing: boolean | null, selecting: boolean | null) => (): void => {
        if (squeezing !== null) hand.squeezing = squeezing;
        if (selecting !== null) hand.selecting = selecting;
        this.handsChanged = true;
      };
      grip.addEventListener("squeezestart", holding(true, null));
      grip.addEventListener("squeezeend", holding(false, null));
      grip.addEventListener("selectstart", holding(null, true));
      grip.addEventListener("selectend", holding(null, false));
      grip.addEventListener("disconnected", holding(false, false));
      viewer.scene.add(grip);
      this.hands.push(hand);
    }
    xr.addEventListener("sessionstart", this.onStart);
    xr.addEventListener("sessionend", this.onEnd);
    viewer.xrFrame = () => this.frame();
    void this.addButton();
  }

  /**
   * The ENTER VR button where immersive VR is available; on a plain-http page other than this machine's
   * (where browsers hide WebXR) three.js's button says that https is needed. Nothing on a desktop browser.
   */
  private async addButton(): Promise<void> {
    const supported = window.isSecureContext && (await navigator.xr?.isSessionSupported("immersive-vr"));
    if (window.isSecureContext && supported !== true) return;
    this.button = VRButton.createButton(this.viewer.renderer);
    this.buttonParent.appendChild(this.button);
  }

  private get camera(): PerspectiveCamera {
    return this.viewer.camera;
  }

  private sessionStarted(): void {
    const saved = this.screenCamera;
    saved.position.copy(this.camera.position);
    saved.quaternion.copy(this.camera.quaternion);
    saved.near = this.camera.near;
    saved.far = this.camera.far;
    this.camera.near = XR_NEAR_M;
    this.camera.far = XR_FAR_M;
    this.needsPlacement = true;
    this.handsChanged = true;
    this.limitSamples();
  }

  private sessionEnded(): void {
    const saved = this.screenCamera;
    this.camera.position.copy(saved.position);
    this.camera.quaternion.copy(saved.quaternion);
    this.camera.near = saved.near;
    this.camera.far = saved.far;
    this.camera.updateProjectionMatrix();
    const group = this.viewer.networkView.group;
    group.position.set(0, 0, 0);
    group.quaternion.identity();
    group.scale.setScalar(1);
    for (const hand of this.hands) hand.squeezing = hand.selecting = false;
    this.pressed.clear();
    if (this.thresholdBefore !== null && this.state.number(EDGE_THRESHOLD_KEY) === this.thresholdRaised) {
      this.state.setRender(EDGE_THRESHOLD_KEY, this.thresholdBefore);
    }
    this.thresholdBefore = null;
    this.viewer.invalidate();
  }

  /** Raise the edge importance threshold until at most XR_SAMPLE_BUDGET samples remain. */
  private limitSamples(): void {
    const threshold = thresholdForBudget(this.viewer.networkView.edgeScoreAndT, XR_SAMPLE_BUDGET);
    const current = this.state.number(EDGE_THRESHOLD_KEY);
    if (threshold <= current) return;
    this.thresholdBefore = current;
    this.thresholdRaised = threshold;
    this.state.setRender(EDGE_THRESHOLD_KEY, threshold);
  }

  private frame(): void {
    if (this.needsPlacement) this.place();
    this.readButtons();
    this.moveWithHands();
  }

  /**
   * Put the network at arm's length in front of the viewer's eyes, upright, turned as the screen showed it
   * (the screen camera's view direction becomes the viewer's gaze direction), NETWORK_RADIUS_M in radius.
   */
  private place(): void {
    const xr = this.viewer.renderer.xr;
    const space = xr.getReferenceSpace();
    const pose = space === null ? undefined : xr.getFrame()?.getViewerPose(space);
    if (pose === undefined || pose === null) return; // tracking not ready: try next frame
    const { position, orientation } = pose.transform;
    this.head.set(position.x, position.y, position.z);
    this.yaw.set(orientation.x, orientation.y, orientation.z, orientation.w);
    this.forward.set(0, 0, -1).applyQuaternion(this.yaw).setY(0);
    if (this.forward.lengthSq() < 1e-6) this.forward.set(0, 0, -1); // looking straight up or down
    this.forward.normalize();
    this.yaw.setFromAxisAngle(this.up, Math.atan2(-this.forward.x, -this.forward.z));
    const view = this.viewer.networkView;
    const group = view.group;
    const scale = NETWORK_RADIUS_M / Math.max(view.bounds.radius, Number.EPSILON);
    group.quaternion.copy(this.screenCamera.quaternion).invert().premultiply(this.yaw);
    group.scale.setScalar(scale);
    // position = target − R·(scale·centre), so that the network's centre lands on the target.
    group.position
      .copy(view.bounds.center)
      .multiplyScalar(-scale)
      .applyQuaternion(group.quaternion)
      .add(this.head)
      .addScaledVector(this.forward, ARM_LENGTH_M);
    group.position.y -= BELOW_EYES_M;
    this.needsPlacement = false;
    this.handsChanged = true;
  }


  private readButtons(): void {
    const session = this.viewer.renderer.xr.getSession();
    if (session === null) return;
    for (const source of session.inputSources) {
      const buttons = source.gamepad?.buttons;
      if (buttons === undefined) continue;
      let now = 0;
      for (let i = 0; i < buttons.length; i++) if (buttons[i]?.pressed === true) now |= 1 << i;
      const before = this.pressed.get(source) ?? 0;
      this.pressed.set(source, now);
      const pressedNow = now & ~before;
      if (pressedNow & (1 << BUTTON_CLASS_VIEW)) this.cycleClassView();
      if (pressedNow & (1 << BUTTON_EDGE_MODE)) this.cycleEdgeMode();
    }
  }

  private cycleClassView(): void {
    const classes = this.state.network?.data.nClasses ?? 0;
    this.state.setClassView(nextClassView(this.state.classView, classes));
  }

  private cycleEdgeMode(): void {
    if (this.edgeModes.length === 0) return;
    const index = this.edgeModes.indexOf(String(this.state.render[EDGE_MODE_KEY]));
    this.state.setRender(EDGE_MODE_KEY, this.edgeModes[(index + 1) % this.edgeModes.length] as string);
  }

  private moveWithHands(): void {
    const group = this.viewer.networkView.group;
    if (this.handsChanged) {
      this.held.length = 0;
      for (const hand of this.hands) if (hand.squeezing || hand.selecting) this.held.push(hand.grip);
      group.updateMatrix();
      this.grab.begin(group.matrix, this.heldMatrices());
      this.handsChanged = false;
    }
    if (this.held.length === 0) return;
    // The grips hang from the scene's root, so their local matrices are their poses in the reference space.
    this.grab.update(this.heldMatrices(), this.objectMatrix.copy(group.matrix));
    this.objectMatrix.decompose(group.position, group.quaternion, group.scale);
  }


  private heldMatrices(): readonly Matrix4[] {
    this.matrices.length = 0;
    for (const grip of this.held) this.matrices.push(grip.matrix);
    return this.matrices;
  }

  dispose(): void {
    const xr = this.viewer.renderer.xr;
    xr.removeEventListener("sessionstart", this.onStart);
    xr.removeEventListener("sessionend", this.onEnd);
    this.viewer.xrFrame = null;
    for (const hand of this.hands) this.viewer.scene.remove(hand.grip);
    this.markerGeometry.dispose();
    this.markerMaterial.dispose();
    this.button?.remove();
  }
}
