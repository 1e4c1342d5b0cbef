/**
 * Per-element colours for a class view (docs/viewer.md, "Colour and alpha"), written into preallocated arrays.
 *
 * Each element gets (r, g, b, α_v): α_v is its importance alpha, before the shader's opacity formula; the size
 * always follows the overall score.
 * - "independent": black, α_v = score.
 * - "all": the classes' palette colours weighted by share^SHARPNESS (share = importance / Σ importance), so a
 *   node that serves mostly one class shows that class's colour, then given back the weighted mean chroma of
 *   those colours, so that a mix of several classes is a clear colour too rather than a grey; α_v = √score,
 *   so that the colour of middling elements can be read (the order of importance is kept).
 * - class k: palette_k, α_v = the element's class-k importance relative to the strongest class-k node of its
 *   layer, so each layer's class-k pathway is at full strength, however weak the class is overall there.
 * Edge samples interpolate their end nodes' colours by their mix position; their α_v is their score (√score in
 * "all"), or in a class-k view the interpolated class-k alpha of the end nodes.
 */

import type { NetworkData } from "./format.js";
import { palette } from "./palette.js";
import { type EdgeSamples, edgeHolding, importanceType, mixPosition, UNIT16 } from "./samples.js";

/** What the class colours show: no class ("independent"), the mix of all, or one class by index. */
export type ClassView = "independent" | "all" | number;

const RGBA = 4;
// Exponent on the class shares in the "all" mix: 1 averages (greys), large values pick the dominant class.
const SHARPNESS = 4;

/** Node colours and α_v for `view` into `out` ((N, 4) float32). */
export function nodeColours(network: NetworkData, nodeScore: Float32Array, view: ClassView, out: Float32Array): void {
  const { nNodes, nClasses, nodeImportance } = network;
  const colours = palette(nClasses);
  const chromas = Float32Array.from({ length: nClasses }, (_, c) => chromaOf(colours, c));
  const strongest = typeof view === "number" ? layerMaxima(network, view) : null;
  for (let n = 0; n < nNodes; n++) {
    let r = 0;
    let g = 0;
    let b = 0;
    let alpha = nodeScore[n] as number;
    if (view === "all") {
      let total = 0;
      for (let c = 0; c < nClasses; c++) total += (nodeImportance[n * nClasses + c] as number) ** SHARPNESS;
      let chroma = 0;
      for (let c = 0; c < nClasses && total > 0; c++) {
        const weight = (nodeImportance[n * nClasses + c] as number) ** SHARPNESS / total;
        r += weight * (colours[3 * c] as number);
        g += weight * (colours[3 * c + 1] as number);
        b += weight * (colours[3 * c + 2] as number);
        chroma += weight * (chromas[c] as number);
      }
      [r, g, b] = withChroma(r, g, b, chroma);
      alpha = Math.sqrt(alpha);
    } else if (typeof view === "number" && strongest !== null) {
      r = colours[3 * view] as number;
      g = colours[3 * view + 1] as number;
      b = colours[3 * view + 2] as number;
      const max = strongest[n] as number;
      alpha = max > 0 ? (nodeImportance[n * nClasses + view] as number) / max : 0;
    }
    out[RGBA * n] = r;
    out[RGBA * n + 1] = g;
    out[RGBA * n + 2] = b;
    out[RGBA * n + 3] = alpha;
  }
}

/** Chroma (largest minus smallest channel) of palette colour `c`. */
function chromaOf(colours: Float32Array, c: number): number {
  const rgb = colours.subarray(3 * c, 3 * c + 3);
  return Math.max(...rgb) - Math.min(...rgb);
}

/**
 * The colour with its hue and value (largest channel) kept and its chroma set to `chroma`: a mix of distant
 * hues averages towards grey, this gives it back the mean chroma of the colours mixed.
 */
function withChroma(r: number, g: number, b: number, chroma: number): [number, number, number] {
  const high = Math.max(r, g, b);
  const now = high - Math.min(r, g, b);
  if (now <= 0) return [r, g, b];
  const scale = Math.min(chroma, high) / now;
  return [high - (high - r) * scale, high - (high - g) * scale, high - (high - b) * scale];
}

/** For each node, the largest class-`k` importance among the nodes of its layer. */
function layerMaxima(network: NetworkData, k: number): Float32Array {
  const { nNodes, nClasses, nodeImportance, layerSizes } = network;
  const maxima = new Float32Array(nNodes);
  let first = 0;
  for (const size of layerSizes) {
    let max = 0;
    for (let n = first; n < first + size; n++) max = Math.max(max, nodeImportance[n * nClasses + k] as number);
    maxima.fill(max, first, first + size);
    first += size;
  }
  return maxima;
}

/**
 * α_v of an edge sample from its score in `view`, or null in a class view, where it comes from the end nodes
 * instead (so it does not follow the score).
 */
export function scoreAlpha(view: ClassView): ((score: number) => number) | null {
  if (typeof view === "number") return null;
  return view === "all" ? Math.sqrt : (score) => score;
}

/**
 * Colours of the samples `from` … `to` - 1 (whole edges; (S, 4) bytes, fractions of 255, in the samples' draw
 * order, into `out`) from the node colours of `nodeColours` for the same `view`.
 */
export function sampleColours(
  network: NetworkData,
  samples: EdgeSamples,
  nodeColour: Float32Array,
  view: ClassView,
  out: Uint8Array,
  from = 0,
  to = samples.count,
): void {
  const { edgeSource, edgeTarget } = network;
  const { offsets, order, scoreAndT } = samples;
  const type = importanceType(network);
  const alphaOf = scoreAlpha(view);
  for (let k = edgeHolding(offsets, from); k < order.length && (offsets[k] as number) < to; k++) {
    const e = order[k] as number;
    const s = RGBA * (edgeSource[e] as number);
    const t = RGBA * (edgeTarget[e] as number);
    const r = nodeColour[s] as number;
    const g = nodeColour[s + 1] as number;
    const b = nodeColour[s + 2] as number;
    const a = nodeColour[s + 3] as number;
    const dr = (nodeColour[t] as number) - r;
    const dg = (nodeColour[t + 1] as number) - g;
    const db = (nodeColour[t + 2] as number) - b;
    const da = (nodeColour[t + 3] as number) - a;
    for (let i = offsets[k] as number, end = offsets[k + 1] as number; i < end; i++) {
      const m = mixPosition((scoreAndT[2 * i + 1] as number) / UNIT16, type);
      const alpha = alphaOf === null ? a + m * da : alphaOf((scoreAndT[2 * i] as number) / UNIT16);
      out[RGBA * i] = Math.round(255 * (r + m * dr));
      out[RGBA * i + 1] = Math.round(255 * (g + m * dg));
      out[RGBA * i + 2] = Math.round(255 * (b + m * db));
      out[RGBA * i + 3] = Math.round(255 * alpha);
    }
  }
}
