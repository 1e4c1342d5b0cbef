/**
 * The loaded network as three.js objects: a node layer and an edge layer, rebuilt when their mode changes,
 * recoloured in place when the class view changes, re-uniformed when a setting changes. Reads the state; never
 * writes it.
 *
 * A picture is drawn progressively: the first frame draws the nodes and the strongest edge samples (the
 * samples are in draw order, strongest edges first), later frames add the next chunks of samples on top without
 * clearing, so a slow GPU shows the network at once and the page stays responsive while it fills in. The
 * blending (MIN/MAX, or a depth test) does not depend on order, so the finished picture is the one a single
 * frame would draw. Samples that the settings hide (at or below the importance threshold, or fully transparent)
 * form the tail of the draw order and are never drawn.
 */

import { Box3, Group, type PerspectiveCamera, Sphere, Vector3 } from "three";
import { nodeColours, sampleColours, scoreAlpha } from "../colours.js";
import type { NetworkData } from "../format.js";
import {
  type EdgeSamples,
  edgeSamples,
  lastAtOrBelow,
  nodeScores,
  positionArray,
  shownPrefix,
  UNIT16,
} from "../samples.js";
import type { Change, ViewerState } from "../state.js";
import type { FitElements } from "./camera.js";
import { type ElementArrays, type Layer, lineLayer, pointLayer, segmentLayer, sphereLayer } from "./layers.js";
import { impostorMaterial, lineMaterial, pointMaterial, Shading } from "./materials.js";

/** Diameter of the dots of the point modes, in CSS pixels. */
const POINT_DIAMETER_PX = 3;
/** At most this many edge samples (evenly spread) join the nodes in the points the camera fits. */
const FIT_SAMPLES = 10_000;
const NO_ELEMENTS = unsized(new Float32Array(0));
// Elements fainter than this importance term (at most 5 % opaque) are left out of what the camera fits.
const VISIBLE = 0.05;
/** Edge samples per chunk (one draw call, one step of a progressive picture): at least this many … */
const MIN_CHUNK_SAMPLES = 8192;
/** … and at most this many chunks, so that a huge file costs a bounded number of draw calls. */
const MAX_CHUNKS = 1024;
// Slack in the tests that predict which samples the shaders hide: when in doubt a sample is drawn.
const SLACK = 1e-6;
/** Edge modes whose shaders hide an element whose importance term is ≤ 0 (opaque spheres show it). */
const FADING_MODES = ["transparent_sphere", "transparent_ellipsoid", "line", "point"];

/** Everything derived once per network: typed arrays the layers share. */
interface Derived {
  readonly data: NetworkData;
  readonly nodeScore: Float32Array;
  /** (N, 4) float node colours and α_v, from which the samples' colours are interpolated. */
  readonly nodeColour: Float32Array;
  readonly nodes: ElementArrays;
  readonly samples: EdgeSamples;
  readonly edges: ElementArrays;
}

/** Bytes the view holds for the network, for the benchmark: the file, the arrays derived from it, GPU buffers. */
export interface MemoryUse {
  readonly fileBytes: number;
  readonly arrayBytes: number;
  readonly gpuBytes: number;
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
  /** Edge samples the settings can show: a prefix of the draw order. */
  private shown = 0;
  /** Edge samples drawn on the current picture (a prefix of `shown`). */
  private drawn = 0;
  /** Edge samples filled in and coloured for the current class view (a prefix; whole chunks). */
  private ready = 0;
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

  /** Edge samples the current settings can show, and how many of them the current picture has drawn. */
  get progress(): { readonly drawn: number; readonly shown: number } {
    return { drawn: this.drawn, shown: this.shown };
  }

  /** True when the current picture has every sample it can show. */
  get complete(): boolean {
    return this.drawn >= this.shown;
  }

  get memory(): MemoryUse {
    const d = this.derived;
    if (d === null) return { fileBytes: 0, arrayBytes: 0, gpuBytes: 0 };
    const { positions, offsets, order, peaks, scoreAndT } = d.samples;
    const views = [positions, offsets, order, peaks, scoreAndT, d.edges.colours, d.edges.chunks, d.nodeScore,
      d.nodeColour, d.nodes.positions, d.nodes.colours, d.nodes.scoreAndT];
    return {
      fileBytes: d.data.nodePosition.buffer.byteLength,
      arrayBytes: views.reduce((sum, view) => sum + view.byteLength, 0),
      gpuBytes: (this.nodeLayer?.gpuBytes ?? 0) + (this.edgeLayer?.gpuBytes ?? 0),
    };
  }

  private onChange(change: Change): void {
    if (change === "network") this.rebuild();
    else if (change === "render") this.applyRender();
    else if (change === "classView") this.recolour();
  }

  private rebuild(): void {
    this.clearLayers();
    const loaded = this.state.network;
    this.ready = 0;
    if (loaded === null) {
      this.derived = null;
      this.fitElements = NO_ELEMENTS;
      this.shown = this.drawn = 0;
      return;
    }
    const data = loaded.data;
    const nodeScore = nodeScores(data);
    const samples = edgeSamples(data, nodeScore, this.samplesPerUnit());
    const nodeScoreAndT = new Uint16Array(2 * data.nNodes);
    for (let n = 0; n < data.nNodes; n++) nodeScoreAndT[2 * n] = Math.round((nodeScore[n] as number) * UNIT16);
    const nodePositions = positionArray(data.nNodes);
    nodePositions.set(data.nodePosition);
    this.derived = {
      data,
      nodeScore,
      nodeColour: new Float32Array(4 * data.nNodes),
      nodes: {
        positions: nodePositions,
        colours: new Uint8Array(4 * data.nNodes),
        scoreAndT: nodeScoreAndT,
        count: data.nNodes,
        chunks: Uint32Array.of(0, data.nNodes),
      },
      samples,
      edges: {
        positions: samples.positions,
        colours: new Uint8Array(4 * samples.count),
        scoreAndT: samples.scoreAndT,
        count: samples.count,
        chunks: edgeChunks(samples.offsets),
      },
    };
    this.layoutBox.setFromArray(data.nodePosition);
    // Straight edges lie within the nodes' box; polylines are measured on the file's own float32 points.
    const all = data.edgePoints === null ? this.layoutBox.clone() : new Box3().setFromArray(data.edgePoints);
    all.union(this.layoutBox).getBoundingSphere(this.bounds);
    this.computeColours();
    this.applyRender();
  }

  private computeColours(): void {
    const d = this.derived;
    if (d === null) return;
    nodeColours(d.data, d.nodeScore, this.state.classView, d.nodeColour);
    d.nodeColour.forEach((value, i) => {
      d.nodes.colours[i] = Math.round(255 * value);
    });
    sampleColours(d.data, d.samples, d.nodeColour, this.state.classView, d.edges.colours, 0, this.ready);
  }

  /** Fill in and colour the edge samples of the chunks up to the one holding sample `end` - 1 (before drawing). */
  private prepare(end: number): void {
    const d = this.derived;
    if (d === null || end <= this.ready) return;
    const to = chunkEnd(d.edges.chunks, end - 1);
    d.samples.fill(to);
    sampleColours(d.data, d.samples, d.nodeColour, this.state.classView, d.edges.colours, this.ready, to);
    this.ready = to;
  }

  private recolour(): void {
    this.computeColours();
    this.nodeLayer?.coloursChanged();
    this.edgeLayer?.coloursChanged();
    this.updateShown();
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
    const { filePoints } = d.samples;
    const nodes =
      nodeMode === "none"
        ? NO_ELEMENTS
        : drawnElements(d.nodes, setting, "nodes", FIT_SAMPLES, nodePosition, (i) => 3 * i, d.data.layerSizes);
    const edges =
      edgeMode === "none"
        ? NO_ELEMENTS
        : drawnElements(d.edges, setting, "edges", FIT_SAMPLES, filePoints, (i) => d.samples.fileIndex(i));
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
    this.updateShown();
  }

  /**
   * The prefix of the draw order that can show: edges whose strongest sample is above the threshold and, in
   * the modes that hide elements whose importance term is ≤ 0, not fully transparent (in a class view α_v
   * does not follow the score, so only the threshold counts there).
   */
  private updateShown(): void {
    const d = this.derived;
    if (d === null || this.edgeLayer === null) {
      this.shown = this.drawn = 0;
      return;
    }
    const threshold = this.state.number("edges.importance_threshold");
    const opacity = this.state.number("edges.importance_opacity");
    const alphaOf = FADING_MODES.includes(this.edgeMode) ? scoreAlpha(this.state.classView) : null;
    this.shown = shownPrefix(d.samples, (peak) => {
      if (peak <= threshold - SLACK) return false;
      return alphaOf === null || 1 - opacity + opacity * (Math.round(255 * alphaOf(peak)) / 255) > -SLACK;
    });
    this.drawn = 0;
  }

  private buildNodes(mode: string, d: Derived): Layer | null {
    const shading = this.nodeShading;
    switch (mode) {
      case "sphere":
        return sphereLayer(d.nodes, impostorMaterial(shading, { segment: false, transparent: false }));
      case "transparent_sphere":
        return sphereLayer(d.nodes, impostorMaterial(shading, { segment: false, transparent: true }));
      case "point":
        return pointLayer(d.nodes, pointMaterial(shading));
      default:
        return null;
    }
  }

  private buildEdges(mode: string, d: Derived): Layer | null {
    const shading = this.edgeShading;
    switch (mode) {
      case "sphere":
        return sphereLayer(d.edges, impostorMaterial(shading, { segment: false, transparent: false }));
      case "transparent_sphere":
        return sphereLayer(d.edges, impostorMaterial(shading, { segment: false, transparent: true }));
      case "transparent_ellipsoid":
        return segmentLayer(d.edges, impostorMaterial(shading, { segment: true, transparent: true }));
      case "line":
        return lineLayer(d.edges, d.samples.offsets, lineMaterial(shading));
      case "point":
        return pointLayer(d.edges, pointMaterial(shading));
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

  /** (S, 2) (score, t) of the edge samples, fractions of UNIT16; empty before a network is loaded. */
  get edgeScoreAndT(): Uint16Array {
    return this.derived?.samples.scoreAndT ?? new Uint16Array(0);
  }

  /** Set up the next frame to draw everything it can show in one go (a screenshot, a headset frame). */
  showAll(): void {
    this.prepare(this.shown);
    this.setNodesVisible(true);
    this.edgeLayer?.show(0, this.shown);
    this.drawn = this.shown;
  }

  /** Set up the next frame to start a new picture: the nodes and the strongest `budget` edge samples. */
  startPicture(budget: number): void {
    this.setNodesVisible(true);
    this.drawn = Math.min(this.shown, budget);
    this.prepare(this.drawn);
    this.edgeLayer?.show(0, this.drawn);
  }

  /**
   * Set up the next frame to add the next edge samples (whole chunks, at least one, within `budget` where
   * possible) to the picture drawn so far, which it must not clear. The frame that finishes the picture draws
   * transparent nodes again (a no-op under MIN/MAX) so that they end above opaque edge spheres, as in one frame.
   */
  continuePicture(budget: number): void {
    const layer = this.edgeLayer;
    if (layer === null) return;
    const from = chunkStart(layer.chunks, this.drawn);
    let to = chunkEnd(layer.chunks, this.drawn);
    while (to < this.shown && chunkEnd(layer.chunks, to) - from <= budget) to = chunkEnd(layer.chunks, to);
    this.drawn = Math.min(to, this.shown);
    this.prepare(this.drawn);
    layer.show(from, this.drawn);
    this.setNodesVisible(this.complete && this.nodeMode !== "sphere");
  }

  private setNodesVisible(visible: boolean): void {
    if (this.nodeLayer !== null) this.nodeLayer.object.visible = visible;
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

/** Chunk bounds over the samples (starts, then the count): whole edges, about the same number of samples each. */
function edgeChunks(offsets: Uint32Array): Uint32Array {
  const count = offsets[offsets.length - 1] as number;
  const size = Math.max(MIN_CHUNK_SAMPLES, Math.ceil(count / MAX_CHUNKS));
  const bounds = [0];
  for (const offset of offsets) {
    if (offset - (bounds[bounds.length - 1] as number) >= size) bounds.push(offset);
  }
  if ((bounds[bounds.length - 1] as number) < count) bounds.push(count);
  return Uint32Array.from(bounds);
}

/** The start of the chunk holding element `i` (chunk bounds ascending, the count last). */
function chunkStart(chunks: Uint32Array, i: number): number {
  return chunks[lastAtOrBelow(chunks, i)] as number;
}

/** The end of the chunk holding element `i`, the count for i past the end. */
function chunkEnd(chunks: Uint32Array, i: number): number {
  return chunks[Math.min(lastAtOrBelow(chunks, i) + 1, chunks.length - 1)] as number;
}

/**
 * The elements of a group that are drawn (above its importance threshold, with an importance term — their score
 * as α_v — of at least VISIBLE): every k-th of them, at most `limit`, with the radius (size × score) they are
 * drawn with and their area as drawn, which the camera weighs them by (a sphere's disc; an edge sample's piece
 * of tube, 2·radius × the distance to the next sample of its edge, times k for the ones skipped). Element i's
 * position is at `at(i)` in `positions` (float32: the file's, so that nothing waits for the draw arrays; an
 * edge's samples follow each other there). Nodes come in layer order, `layerSizes` of them per layer, and the
 * elements say where each layer's begin (`FitElements.layers`).
 */
function drawnElements(
  arrays: ElementArrays,
  setting: (key: string) => number,
  prefix: "nodes" | "edges",
  limit: number,
  positions: Float32Array,
  at: (i: number) => number,
  layerSizes: readonly number[] = [],
): FitElements {
  const threshold = setting(`${prefix}.importance_threshold`);
  const opacity = setting(`${prefix}.importance_opacity`);
  const size = setting(`${prefix}.size`);
  const { scoreAndT, count } = arrays;
  const drawn = (i: number): boolean => {
    const score = (scoreAndT[2 * i] as number) / UNIT16;
    return score > threshold && 1 - opacity + opacity * score >= VISIBLE;
  };
  let drawnCount = 0;
  for (let i = 0; i < count; i++) if (drawn(i)) drawnCount++;
  const stride = Math.max(1, Math.ceil(drawnCount / limit));
  const fitted = Math.ceil(drawnCount / stride);
  const points = new Float32Array(3 * fitted);
  const radii = new Float32Array(fitted);
  const areas = new Float32Array(fitted);
  const perLayer = new Int32Array(layerSizes.length);
  let layer = 0;
  let layerEnd = layerSizes[0] ?? 0;
  for (let i = 0, k = 0, j = 0; i < count; i++) {
    while (i >= layerEnd && layer + 1 < layerSizes.length) layerEnd += layerSizes[++layer] as number;
    if (!drawn(i) || k++ % stride !== 0) continue;
    if (layerSizes.length > 0) perLayer[layer] = (perLayer[layer] as number) + 1;
    const p = at(i);
    points.set(positions.subarray(p, p + 3), 3 * j);
    const radius = (size * (scoreAndT[2 * i] as number)) / UNIT16;
    radii[j] = radius;
    if (prefix === "nodes") areas[j] = Math.PI * radius * radius;
    else {
      // The neighbour on the edge: the next sample, or the previous one at the edge's end (t stops rising).
      const last = i + 1 >= count || (scoreAndT[2 * i + 3] as number) <= (scoreAndT[2 * i + 1] as number);
      const q = last ? p - 3 : p + 3;
      const piece = q < 0 || q + 3 > positions.length ? 0 : distance(positions, p, q);
      areas[j] = 2 * radius * piece * stride;
    }
    j++;
  }
  const layers = new Int32Array(layerSizes.length > 0 ? layerSizes.length + 1 : 0);
  perLayer.forEach((n, k) => (layers[k + 1] = (layers[k] as number) + n));
  return { points, radii, areas, layers };
}

function distance(positions: Float32Array, p: number, q: number): number {
  return Math.hypot(
    (positions[q] as number) - (positions[p] as number),
    (positions[q + 1] as number) - (positions[p + 1] as number),
    (positions[q + 2] as number) - (positions[p + 2] as number),
  );
}

/** Points fitted as they are, all alike (when nothing is drawn, the camera still frames the layout). */
function unsized(points: Float32Array): FitElements {
  const count = points.length / 3;
  return { points, radii: new Float32Array(count), areas: new Float32Array(count).fill(1), layers: new Int32Array(0) };
}

function joined(a: FitElements, b: FitElements): FitElements {
  const join = (x: Float32Array, y: Float32Array): Float32Array => {
    const out = new Float32Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  // The first one's layers stay where they were; the second one's are not kept (only nodes have layers).
  return { points: join(a.points, b.points), radii: join(a.radii, b.radii), areas: join(a.areas, b.areas), layers: a.layers };
}
