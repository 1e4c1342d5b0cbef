/**
 * Edge polylines as the renderer draws them, for both kinds of file.
 *
 * A processed file carries its polylines; a plain network gets straight polylines from source to target node,
 * sampled at the processing sampling rate so that spheres, ellipsoids and points look alike for both kinds.
 * Every sample carries its edge's static score and its position t along the edge (0 at the source, 1 at the
 * target); a segment i → i + 1 belongs to one edge exactly when t increases, which lets the renderer draw
 * all segments of all edges from one buffer with one draw call.
 */

import type { NetworkData } from "./format.js";

/** Samples straight edges get at most (about 100 MB of arrays); a 784-81-49-10 network needs ~0.7 M. */
const MAX_STRAIGHT_SAMPLES = 4_000_000;
/** Scores and positions t along an edge are stored as 16-bit fractions of [0, 1] (0 and 1 exact). */
export const UNIT16 = 65535;
const SCORE_LEVELS = UNIT16 + 1;

/** Sample positions as the GPU takes them: half floats where the browser has Float16Array, else float32. */
export type PositionArray = Float16Array | Float32Array;
const PositionArrayType = typeof Float16Array === "undefined" ? Float32Array : Float16Array;

/** A (K, 3) position array for `count` elements (half floats where the browser has them). */
export function positionArray(count: number): PositionArray {
  return new PositionArrayType(3 * count);
}

/**
 * Edge samples in *draw order*: edges sorted by their peak sample score, strongest first (ties in file order),
 * so that any prefix of the arrays is the most important part of the picture (the level of detail) and the
 * samples that a threshold hides form the tail. Arrays are what the GPU takes, 14 bytes per sample with the
 * colours (half-float positions, 16-bit score and t, 8-bit colours). Scores are computed at once; positions are
 * filled in on demand (`fill`), whole edges at a time, so that a huge file's first frame need not wait for all.
 */
export class EdgeSamples {
  /** Samples whose positions are filled in: a prefix of the draw order, whole edges. */
  filled = 0;
  private filledEdges = 0;

  constructor(
    /** (S, 3) sample positions in draw order (filled up to `filled`). */
    readonly positions: PositionArray,
    /** (E + 1,) offsets in draw order: the k-th drawn edge owns samples offsets[k] … offsets[k + 1] - 1. */
    readonly offsets: Uint32Array,
    /** (E,) the file's index of the k-th drawn edge. */
    readonly order: Uint32Array,
    /** (E,) the k-th drawn edge's largest sample score, in UNIT16 steps; never increases along the draw order. */
    readonly peaks: Uint16Array,
    /** (S, 2) (score, t) per sample as fractions of UNIT16: score in [0, 1] (docs/viewer.md), t 0 at the source. */
    readonly scoreAndT: Uint16Array,
    /** (S, 3) float32 polyline points and (E + 1,) offsets in file order (a processed file's own arrays). */
    readonly filePoints: Float32Array,
    readonly fileOffsets: Uint32Array,
  ) {}

  get count(): number {
    return this.scoreAndT.length / 2;
  }

  /** Fill in the positions of the samples before `end` (and the rest of the edge holding end - 1). */
  fill(end: number): void {
    const { positions, offsets, order, filePoints, fileOffsets } = this;
    let k = this.filledEdges;
    for (; k < order.length && (offsets[k] as number) < end; k++) {
      const e = order[k] as number;
      const polyline = filePoints.subarray(3 * (fileOffsets[e] as number), 3 * (fileOffsets[e + 1] as number));
      positions.set(polyline, 3 * (offsets[k] as number));
    }
    this.filledEdges = k;
    this.filled = offsets[k] as number;
  }

  /** Where drawn sample `i` starts in `filePoints` (its x). */
  fileIndex(i: number): number {
    const k = edgeHolding(this.offsets, i);
    return 3 * ((this.fileOffsets[this.order[k] as number] as number) + i - (this.offsets[k] as number));
  }
}

/** The edge (index into `offsets`, (E + 1,) polyline offsets) that holds sample `i`. */
export function edgeHolding(offsets: Uint32Array, i: number): number {
  return lastAtOrBelow(offsets, i, offsets.length - 2);
}

/** Binary search in an ascending array: the last index ≤ `last` whose value is ≤ `value` (0 if none is). */
export function lastAtOrBelow(sorted: Uint32Array, value: number, last = sorted.length - 1): number {
  let low = 0;
  let high = last;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if ((sorted[middle] as number) <= value) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Node importance as one score in [0, 1]: the Euclidean norm of its class vector, clipped. */
export function nodeScores(network: NetworkData): Float32Array {
  const { nNodes, nClasses, nodeImportance } = network;
  const scores = new Float32Array(nNodes);
  for (let n = 0; n < nNodes; n++) {
    let squares = 0;
    for (let c = 0; c < nClasses; c++) {
      const v = nodeImportance[n * nClasses + c] as number;
      squares += v * v;
    }
    scores[n] = Math.min(1, Math.sqrt(squares));
  }
  return scores;
}

/**
 * Where along its edge a sample takes its class mix from, by the file's `edge_importance_type`
 * (docs/viewer.md): 0 interpolates source → target, 1 the source, 2 the mean of both, 3 the target.
 */
export function mixPosition(t: number, importanceType: number): number {
  switch (importanceType) {
    case 1:
      return 0;
    case 2:
      return 0.5;
    case 3:
      return 1;
    default:
      return t;
  }
}

/** The `edge_importance_type` a processed file was made with (0 when unknown). */
export function importanceType(network: NetworkData): number {
  try {
    const config: unknown = JSON.parse(network.metadata["processing_config"] ?? "{}");
    const value = (config as Record<string, unknown>)["edge_importance_type"];
    return typeof value === "number" ? value : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples of every edge (the file's polylines, or straight lines at `samplesPerUnit` per unit length) in draw
 * order. Score of a sample at mix position m = ((1 - m)·|S| + m·|E|)·a (docs/viewer.md), clipped to [0, 1].
 */
export function edgeSamples(network: NetworkData, nodeScore: Float32Array, samplesPerUnit: number): EdgeSamples {
  const { nEdges, edgeSource, edgeTarget, edgeImportance } = network;
  let points = network.edgePoints;
  let fileOffsets = network.edgeOffsets;
  if (points === null || fileOffsets === null) {
    [points, fileOffsets] = straightPolylines(network, samplesPerUnit);
  }
  const count = points.length / 3;
  const type = importanceType(network);
  // Mix positions at the two ends; in between m follows t (type 0) or stays put, so the ends bound the scores.
  const m0 = mixPosition(0, type);
  const m1 = mixPosition(1, type);
  const filePeaks = new Uint16Array(nEdges);
  for (let e = 0; e < nEdges; e++) {
    const source = nodeScore[edgeSource[e] as number] as number;
    const target = nodeScore[edgeTarget[e] as number] as number;
    const high = Math.max((1 - m0) * source + m0 * target, (1 - m1) * source + m1 * target);
    filePeaks[e] = Math.round(Math.min(1, high * (edgeImportance[e] as number)) * UNIT16);
  }
  const order = descendingOrder(filePeaks);
  const scoreAndT = new Uint16Array(2 * count);
  const offsets = new Uint32Array(nEdges + 1);
  const peaks = new Uint16Array(nEdges);
  const follows = type === 0;
  for (let k = 0; k < nEdges; k++) {
    const e = order[k] as number;
    const first = fileOffsets[e] as number;
    const span = (fileOffsets[e + 1] as number) - 1 - first;
    const to = offsets[k] as number;
    offsets[k + 1] = to + span + 1;
    const peak = filePeaks[e] as number;
    peaks[k] = peak;
    const source = nodeScore[edgeSource[e] as number] as number;
    const target = nodeScore[edgeTarget[e] as number] as number;
    const a = edgeImportance[e] as number;
    for (let i = 0, j = 2 * to; i <= span; i++, j += 2) {
      const t = i / span;
      const m = follows ? t : m0;
      // Capped at the peak, so no sample outscores the peak its edge is sorted and cut by (rounding aside).
      scoreAndT[j] = Math.min(peak, Math.round(Math.min(1, ((1 - m) * source + m * target) * a) * UNIT16));
      scoreAndT[j + 1] = Math.round(t * UNIT16);
    }
  }
  return new EdgeSamples(positionArray(count), offsets, order, peaks, scoreAndT, points, fileOffsets);
}

/** Indices of `keys` by descending key, ties in index order (a counting sort: keys are 16-bit). */
function descendingOrder(keys: Uint16Array): Uint32Array {
  const starts = new Uint32Array(SCORE_LEVELS + 1);
  for (const key of keys) starts[UNIT16 - key + 1] = (starts[UNIT16 - key + 1] as number) + 1;
  for (let level = 1; level <= SCORE_LEVELS; level++) {
    starts[level] = (starts[level] as number) + (starts[level - 1] as number);
  }
  const order = new Uint32Array(keys.length);
  keys.forEach((key, index) => {
    const slot = UNIT16 - key;
    order[starts[slot] as number] = index;
    starts[slot] = (starts[slot] as number) + 1;
  });
  return order;
}

/** How many samples lead the draw order up to the first edge whose peak fails `shows` (a monotone test). */
export function shownPrefix(samples: EdgeSamples, shows: (peak: number) => boolean): number {
  let low = 0;
  let high = samples.peaks.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (shows((samples.peaks[middle] as number) / UNIT16)) low = middle + 1;
    else high = middle;
  }
  return samples.offsets[low] as number;
}

function edgeLength(nodePosition: Float32Array, source: number, target: number): number {
  const s = 3 * source;
  const t = 3 * target;
  return Math.hypot(
    (nodePosition[t] as number) - (nodePosition[s] as number),
    (nodePosition[t + 1] as number) - (nodePosition[s + 1] as number),
    (nodePosition[t + 2] as number) - (nodePosition[s + 2] as number),
  );
}

function straightPolylines(network: NetworkData, samplesPerUnit: number): [Float32Array, Uint32Array] {
  const { nEdges, edgeSource, edgeTarget, nodePosition } = network;
  let totalLength = 0;
  for (let e = 0; e < nEdges; e++) {
    totalLength += edgeLength(nodePosition, edgeSource[e] as number, edgeTarget[e] as number);
  }
  // Huge plain networks are sampled more coarsely rather than exhausting the page's memory.
  const rate = Math.min(samplesPerUnit, MAX_STRAIGHT_SAMPLES / Math.max(totalLength, Number.EPSILON));
  const offsets = new Uint32Array(nEdges + 1);
  for (let e = 0; e < nEdges; e++) {
    const length = edgeLength(nodePosition, edgeSource[e] as number, edgeTarget[e] as number);
    offsets[e + 1] = (offsets[e] as number) + Math.max(2, Math.ceil(length * rate) + 1);
  }
  const points = new Float32Array((offsets[nEdges] as number) * 3);
  for (let e = 0; e < nEdges; e++) {
    const s = 3 * (edgeSource[e] as number);
    const t = 3 * (edgeTarget[e] as number);
    const first = offsets[e] as number;
    const span = (offsets[e + 1] as number) - 1 - first;
    for (let i = 0; i <= span; i++) {
      const f = i / span;
      for (let axis = 0; axis < 3; axis++) {
        const from = nodePosition[s + axis] as number;
        points[3 * (first + i) + axis] = from + f * ((nodePosition[t + axis] as number) - from);
      }
    }
  }
  return [points, offsets];
}
