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

export interface EdgeSamples {
  /** (S, 3) float32 sample positions; the file's own array for processed files. */
  readonly points: Float32Array;
  /** (E + 1,) offsets: edge e owns samples offsets[e] … offsets[e + 1] - 1. */
  readonly offsets: Uint32Array;
  /** (S, 2) float32: (importance score in [0, 1], t in [0, 1]) per sample. */
  readonly scoreAndT: Float32Array;
  readonly count: number;
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
 * Samples of every edge: the file's polylines, or straight lines at `samplesPerUnit` per unit length.
 * Score of a sample at mix position m = ((1 - m)·|S| + m·|E|)·a (docs/viewer.md), clipped to [0, 1].
 */
export function edgeSamples(network: NetworkData, nodeScore: Float32Array, samplesPerUnit: number): EdgeSamples {
  const { nEdges, edgeSource, edgeTarget, edgeImportance } = network;
  let points = network.edgePoints;
  let offsets = network.edgeOffsets;
  if (points === null || offsets === null) {
    [points, offsets] = straightPolylines(network, samplesPerUnit);
  }
  const count = points.length / 3;
  const type = importanceType(network);
  const scoreAndT = new Float32Array(count * 2);
  for (let e = 0; e < nEdges; e++) {
    const first = offsets[e] as number;
    const last = (offsets[e + 1] as number) - 1;
    const source = nodeScore[edgeSource[e] as number] as number;
    const target = nodeScore[edgeTarget[e] as number] as number;
    const a = edgeImportance[e] as number;
    const span = last - first;
    for (let i = first; i <= last; i++) {
      const t = (i - first) / span;
      const m = mixPosition(t, type);
      scoreAndT[2 * i] = Math.min(1, ((1 - m) * source + m * target) * a);
      scoreAndT[2 * i + 1] = t;
    }
  }
  return { points, offsets, scoreAndT, count };
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
