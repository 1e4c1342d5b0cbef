/**
 * The loaded network as three.js objects: a node layer and an edge layer, each one draw call, rebuilt when
 * its mode changes, recoloured in place when the class view changes, re-uniformed when a setting changes.
 * Reads the state; never writes it.
 */

import { Box3, Group, type PerspectiveCamera, Sphere, Vector3 } from "three";
import { nodeColours, sampleColours } from "../colours.js";
import type { NetworkData } from "../format.js";
import { type EdgeSamples, edgeSamples, nodeScores } from "../samples.js";
import type { Change, ViewerState } from "../state.js";
import type { FitElements } from "./camera.js";
import { type Layer, lineLayer, pointLayer, segmentLayer, sphereLayer } from "./layers.js";
import { impostorMaterial, lineMaterial, pointMaterial, Shading } from "./materials.js";

/** Diameter of the dots of the point modes, in CSS pixels. */
const POINT_DIAMETER_PX = 3;
/** At most this many edge samples (evenly spread) join the nodes in the points the camera fits. */
const FIT_SAMPLES = 10_000;
const NO_ELEMENTS = unsized(new Float32Array(0));
// Elements fainter than this importance term (at most 30 % opaque) may fall outside the fitted view.
const VISIBLE = 0.05;

/** Everything derived once per network: typed arrays the layers share. */
interface Derived {
  readonly data: NetworkData;
  readonly nodeScore: Float32Array;
  readonly nodeColour: Float32Array;
  readonly nodeScoreAndT: Float32Array;
  readonly samples: EdgeSamples;
  readonly sampleColour: Float32Array;
}

export class NetworkView {
  readonly group = new Group();
  /** Bounding box of the nodes (the layout), for camera presets. */
  readonly layoutBox = new Box3();
  /** Bounding sphere of nodes and samples, for the relative depth ε. */
  readonly bounds = new Sphere();
  /** The drawn nodes and a spread of the drawn edge samples, with their sizes: what the camera fits. */
  fitElements: FitElements = NO_ELEMENTS;
  private readonly nodeShading = new Shading();
  private readonly edgeShading = new Shading();
  private readonly shadings: readonly Shading[] = [this.nodeShading, this.edgeShading];
  private derived: Derived | null = null;
  private nodeLayer: Layer | null = null;
  private edgeLayer: Layer | null = null;
  private nodeMode = "";
  private edgeMode = "";
  private readonly unsubscribe: () => void;
  private readonly scratch = new Vector3();

  /** `samplesPerUnit`: sampling of straight edges in unprocessed files (the processing sampling rate). */
  constructor(
    private readonly state: ViewerState,
    private readonly samplesPerUnit: () => number,
  ) {
    this.unsubscribe = state.subscribe((change) => this.onChange(change));
  }

  /** The largest radius a node or edge sphere can have (size × a score of at most 1). */
  get largestRadius(): number {
    return Math.max(this.state.number("nodes.size"), this.state.number("edges.size"));
  }

  get edgeSampleCount(): number {
    return this.derived?.samples.count ?? 0;
  }

  private onChange(change: Change): void {
    if (change === "network") this.rebuild();
    else if (change === "render") this.applyRender();
    else if (change === "classView") this.recolour();
  }

  private rebuild(): void {
    this.clearLayers();
    const loaded = this.state.network;
    if (loaded === null) {
      this.derived = null;
      this.fitElements = NO_ELEMENTS;
      return;
    }
    const data = loaded.data;
    const nodeScore = nodeScores(data);
    const samples = edgeSamples(data, nodeScore, this.samplesPerUnit());
    const nodeScoreAndT = new Float32Array(2 * data.nNodes);
    for (let n = 0; n < data.nNodes; n++) nodeScoreAndT[2 * n] = nodeScore[n] as number;
    this.derived = {
      data,
      nodeScore,
      nodeColour: new Float32Array(4 * data.nNodes),
      nodeScoreAndT,
      samples,
      sampleColour: new Float32Array(4 * samples.count),
    };
    this.layoutBox.setFromArray(data.nodePosition);
    const all = new Box3().setFromArray(samples.points).union(this.layoutBox);
    all.getBoundingSphere(this.bounds);
    this.computeColours();
    this.applyRender();
  }

  private computeColours(): void {
    const d = this.derived;
    if (d === null) return;
    nodeColours(d.data, d.nodeScore, this.state.classView, d.nodeColour);
    sampleColours(d.data, d.samples, d.nodeColour, this.state.classView, d.sampleColour);
  }

  private recolour(): void {
    this.computeColours();
    this.nodeLayer?.coloursChanged();
    this.edgeLayer?.coloursChanged();
  }

  private applyRender(): void {
    const setting = (key: string): number => this.state.number(key);
    this.nodeShading.apply(setting, "nodes");
    this.edgeShading.apply(setting, "edges");
    const nodeMode = String(this.state.render["node_mode"]);
    const edgeMode = String(this.state.render["edge_mode"]);
    const d = this.derived;
    if (d === null) return;
    const { nodePosition } = d.data;
    const nodes =
      nodeMode === "none" ? NO_ELEMENTS : drawnElements(nodePosition, d.nodeScoreAndT, setting, "nodes", FIT_SAMPLES);
    const { points, scoreAndT } = d.samples;
    const edges =
      edgeMode === "none" ? NO_ELEMENTS : drawnElements(points, scoreAndT, setting, "edges", FIT_SAMPLES);
    this.fitElements = joined(nodes, edges);
    if (this.fitElements.points.length === 0) this.fitElements = unsized(nodePosition);
    if (nodeMode !== this.nodeMode || this.nodeLayer === null) {
      this.replace("node", this.buildNodes(nodeMode, d));
      this.nodeMode = nodeMode;
    }
    if (edgeMode !== this.edgeMode || this.edgeLayer === null) {
      this.replace("edge", this.buildEdges(edgeMode, d));
      this.edgeMode = edgeMode;
    }
  }

  private buildNodes(mode: string, d: Derived): Layer | null {
    const arrays = {
      positions: d.data.nodePosition,
      colours: d.nodeColour,
      scoreAndT: d.nodeScoreAndT,
      count: d.data.nNodes,
    };
    const shading = this.nodeShading;
    switch (mode) {
      case "sphere":
        return sphereLayer(arrays, impostorMaterial(shading, { segment: false, transparent: false }));
      case "transparent_sphere":
        return sphereLayer(arrays, impostorMaterial(shading, { segment: false, transparent: true }));
      case "point":
        return pointLayer(arrays, pointMaterial(shading));
      default:
        return null;
    }
  }

  private buildEdges(mode: string, d: Derived): Layer | null {
    const arrays = {
      positions: d.samples.points,
      colours: d.sampleColour,
      scoreAndT: d.samples.scoreAndT,
      count: d.samples.count,
    };
    const shading = this.edgeShading;
    switch (mode) {
      case "sphere":
        return sphereLayer(arrays, impostorMaterial(shading, { segment: false, transparent: false }));
      case "transparent_sphere":
        return sphereLayer(arrays, impostorMaterial(shading, { segment: false, transparent: true }));
      case "transparent_ellipsoid":
        return segmentLayer(arrays, impostorMaterial(shading, { segment: true, transparent: true }));
      case "line":
        return lineLayer(arrays, d.samples.offsets, lineMaterial(shading));
      case "point":
        return pointLayer(arrays, pointMaterial(shading));
      default:
        return null;
    }
  }

  private replace(which: "node" | "edge", next: Layer | null): void {
    const previous = which === "node" ? this.nodeLayer : this.edgeLayer;
    if (previous !== null) {
      this.group.remove(previous.object);
      previous.dispose();
    }
    if (next !== null) this.group.add(next.object);
    if (which === "node") this.nodeLayer = next;
    else this.edgeLayer = next;
  }

  /** (S, 2) float32 (score, t) of the edge samples drawn now; empty before a network is loaded. */
  get edgeScoreAndT(): Float32Array {
    return this.derived?.samples.scoreAndT ?? new Float32Array(0);
  }

  /**
   * Per frame: the view-space depth range of the network and the point size (no allocation). The group has
   * no transform on screen; in VR the hands move, turn and (uniformly) scale it.
   */
  updateCamera(camera: PerspectiveCamera, pixelRatio: number): void {
    this.group.updateMatrixWorld();
    const world = this.scratch.copy(this.bounds.center).applyMatrix4(this.group.matrixWorld);
    const distance = world.applyMatrix4(camera.matrixWorldInverse).z * -1;
    const radius = this.bounds.radius * this.group.scale.x;
    for (const shading of this.shadings) {
      shading.uniforms.depthRange.value.set(distance - radius, distance + radius);
      shading.uniforms.pointPixels.value = POINT_DIAMETER_PX * pixelRatio;
    }
  }

  private clearLayers(): void {
    this.replace("node", null);
    this.replace("edge", null);
    this.nodeMode = "";
    this.edgeMode = "";
  }

  dispose(): void {
    this.unsubscribe();
    this.clearLayers();
    this.derived = null;
  }
}

/**
 * The elements of a group that are drawn (above its importance threshold, with an importance term — their score
 * as α_v — of at least VISIBLE): every k-th of them, at most `limit`, with the radius (size × score) they are
 * drawn with and their area as drawn, which the camera weighs them by (a sphere's disc; an edge sample's piece
 * of tube, 2·radius × the distance to its neighbour on the edge, times k for the ones skipped).
 */
function drawnElements(
  positions: Float32Array,
  scoreAndT: Float32Array,
  setting: (key: string) => number,
  prefix: "nodes" | "edges",
  limit: number,
): FitElements {
  const threshold = setting(`${prefix}.importance_threshold`);
  const opacity = setting(`${prefix}.importance_opacity`);
  const size = setting(`${prefix}.size`);
  const drawn: number[] = [];
  for (let i = 0; i < scoreAndT.length / 2; i++) {
    const score = scoreAndT[2 * i] as number;
    if (score > threshold && 1 - opacity + opacity * score >= VISIBLE) drawn.push(i);
  }
  const stride = Math.max(1, Math.ceil(drawn.length / limit));
  const count = Math.ceil(drawn.length / stride);
  const points = new Float32Array(3 * count);
  const radii = new Float32Array(count);
  const areas = new Float32Array(count);
  for (let k = 0, j = 0; k < drawn.length; k += stride, j++) {
    const i = drawn[k] as number;
    points.set(positions.subarray(3 * i, 3 * i + 3), 3 * j);
    const radius = size * Math.min(1, scoreAndT[2 * i] as number);
    radii[j] = radius;
    areas[j] = prefix === "nodes" ? Math.PI * radius * radius : 2 * radius * pieceLength(positions, scoreAndT, i) * stride;
  }
  return { points, radii, areas };
}

/** Distance from sample `i` to the next sample of its edge (the previous one at the edge's end). */
function pieceLength(positions: Float32Array, scoreAndT: Float32Array, i: number): number {
  const count = scoreAndT.length / 2;
  const t = scoreAndT[2 * i + 1] as number;
  const next = i + 1 < count && (scoreAndT[2 * i + 3] as number) > t ? i + 1 : i - 1;
  if (next < 0 || next >= count) return 0;
  return Math.hypot(
    (positions[3 * next] as number) - (positions[3 * i] as number),
    (positions[3 * next + 1] as number) - (positions[3 * i + 1] as number),
    (positions[3 * next + 2] as number) - (positions[3 * i + 2] as number),
  );
}

/** Points fitted as they are, all alike (when nothing is drawn, the camera still frames the layout). */
function unsized(points: Float32Array): FitElements {
  const count = points.length / 3;
  return { points, radii: new Float32Array(count), areas: new Float32Array(count).fill(1) };
}

function joined(a: FitElements, b: FitElements): FitElements {
  const join = (x: Float32Array, y: Float32Array): Float32Array => {
    const out = new Float32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return { points: join(a.points, b.points), radii: join(a.radii, b.radii), areas: join(a.areas, b.areas) };
}
