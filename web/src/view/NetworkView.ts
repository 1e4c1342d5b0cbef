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
import { type Layer, lineLayer, pointLayer, segmentLayer, sphereLayer } from "./layers.js";
import { impostorMaterial, lineMaterial, pointMaterial, Shading } from "./materials.js";

/** Diameter of the dots of the point modes, in CSS pixels. */
const POINT_DIAMETER_PX = 3;
/** At most this many edge samples (evenly spread) join the nodes in the points the camera fits. */
const FIT_SAMPLES = 50_000;
const EMPTY = new Float32Array(0);
// Elements fainter than this importance term (at most 30 % opaque) may fall outside the fitted view.
const VISIBLE = 0.3;

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
  /** The drawn nodes and a spread of the drawn edge samples (x, y, z flat): what the camera fits. */
  fitPoints: Float32Array = new Float32Array(0);
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
      this.fitPoints = new Float32Array(0);
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
    const nodes = nodeMode === "none" ? EMPTY : drawnPoints(nodePosition, d.nodeScoreAndT, setting, "nodes", Infinity);
    const { points, scoreAndT } = d.samples;
    const edges = edgeMode === "none" ? EMPTY : drawnPoints(points, scoreAndT, setting, "edges", FIT_SAMPLES);
    this.fitPoints = new Float32Array(nodes.length + edges.length);
    this.fitPoints.set(nodes);
    this.fitPoints.set(edges, nodes.length);
    if (this.fitPoints.length === 0) this.fitPoints = nodePosition;
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

  /** Per frame: the view-space depth range of the network and the point size (no allocation). */
  updateCamera(camera: PerspectiveCamera, pixelRatio: number): void {
    const distance = this.scratch.copy(this.bounds.center).applyMatrix4(camera.matrixWorldInverse).z * -1;
    const radius = this.bounds.radius;
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
 * Positions (x, y, z flat) of the elements of a group that are clearly visible: above its importance threshold,
 * with an importance term (their score as α_v) of at least VISIBLE; every k-th of them, at most `limit`.
 */
function drawnPoints(
  positions: Float32Array,
  scoreAndT: Float32Array,
  setting: (key: string) => number,
  prefix: string,
  limit: number,
): Float32Array {
  const threshold = setting(`${prefix}.importance_threshold`);
  const opacity = setting(`${prefix}.importance_opacity`);
  const drawn: number[] = [];
  for (let i = 0; i < scoreAndT.length / 2; i++) {
    const score = scoreAndT[2 * i] as number;
    if (score > threshold && 1 - opacity + opacity * score >= VISIBLE) drawn.push(i);
  }
  const stride = Math.max(1, Math.ceil(drawn.length / limit));
  const points = new Float32Array(3 * Math.ceil(drawn.length / stride));
  for (let k = 0, j = 0; k < drawn.length; k += stride, j += 3) {
    const i = drawn[k] as number;
    points.set(positions.subarray(3 * i, 3 * i + 3), j);
  }
  return points;
}
