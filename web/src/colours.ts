/**
 * Per-element colours for a class view (ALGORITHM.md 5), written into preallocated arrays.
 *
 * Each element gets (r, g, b, α_v): α_v is its importance-based alpha, before the shader's opacity formula.
 * - "independent": black, α_v = score.
 * - "all": Σ_c palette_c · share_c with share = importance / Σ importance, α_v = score.
 * - class k: palette_k, α_v = share_k · score, so the class-k parts stand out and the rest fades to white.
 *   (ALGORITHM.md multiplies the colour by share_k as well; with α_v already carrying it, that only greys.)
 * Edge samples interpolate their end nodes' colours and alpha factors by their mix position.
 */

import type { NetworkData } from "./format.js";
import { palette } from "./palette.js";
import { type EdgeSamples, importanceType, mixPosition } from "./samples.js";

/** What the class colours show: no class ("independent"), the mix of all, or one class by index. */
export type ClassView = "independent" | "all" | number;

const RGBA = 4;

/**
 * Node colours for `view` into `out` ((N, 4) float32), plus each node's alpha factor (α_v / score) into
 * `factor` ((N,) float32), which the edge samples interpolate.
 */
export function nodeColours(
  network: NetworkData,
  nodeScore: Float32Array,
  view: ClassView,
  out: Float32Array,
  factor: Float32Array,
): void {
  const { nNodes, nClasses, nodeImportance } = network;
  const colours = palette(nClasses);
  for (let n = 0; n < nNodes; n++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let f = 1;
    if (view !== "independent") {
      let total = 0;
      for (let c = 0; c < nClasses; c++) total += nodeImportance[n * nClasses + c] as number;
      if (view === "all") {
        for (let c = 0; c < nClasses && total > 0; c++) {
          const share = (nodeImportance[n * nClasses + c] as number) / total;
          r += share * (colours[3 * c] as number);
          g += share * (colours[3 * c + 1] as number);
          b += share * (colours[3 * c + 2] as number);
        }
      } else {
        r = colours[3 * view] as number;
        g = colours[3 * view + 1] as number;
        b = colours[3 * view + 2] as number;
        f = total > 0 ? (nodeImportance[n * nClasses + view] as number) / total : 0;
      }
    }
    out[RGBA * n] = r;
    out[RGBA * n + 1] = g;
    out[RGBA * n + 2] = b;
    out[RGBA * n + 3] = f * (nodeScore[n] as number);
    factor[n] = f;
  }
}

/** Sample colours ((S, 4) float32 into `out`) from the node colours and factors of `nodeColours`. */
export function sampleColours(
  network: NetworkData,
  samples: EdgeSamples,
  nodeColour: Float32Array,
  nodeFactor: Float32Array,
  out: Float32Array,
): void {
  const { nEdges, edgeSource, edgeTarget } = network;
  const { offsets, scoreAndT } = samples;
  const type = importanceType(network);
  for (let e = 0; e < nEdges; e++) {
    const s = edgeSource[e] as number;
    const t = edgeTarget[e] as number;
    const fs = nodeFactor[s] as number;
    const ft = nodeFactor[t] as number;
    for (let i = offsets[e] as number, end = offsets[e + 1] as number; i < end; i++) {
      const m = mixPosition(scoreAndT[2 * i + 1] as number, type);
      for (let channel = 0; channel < 3; channel++) {
        const from = nodeColour[RGBA * s + channel] as number;
        out[RGBA * i + channel] = from + m * ((nodeColour[RGBA * t + channel] as number) - from);
      }
      out[RGBA * i + 3] = (fs + m * (ft - fs)) * (scoreAndT[2 * i] as number);
    }
  }
}
