/**
 * Camera presets (keys 0-9, docs/viewer.md "Camera") and framing: a preset gives the direction from the
 * network's centre to the camera; the distance is then chosen so that the network's points just fit the free
 * part of the canvas (the part no panel covers). z is the layer axis (input at −z), y is up.
 */

import { type PerspectiveCamera, Vector3 } from "three";

export const FIELD_OF_VIEW_DEGREES = 45;
export const DEFAULT_PRESET = 9;

/** Directions (not normalised) from the network's centre to the camera. */
const PRESETS: readonly (readonly [number, number, number])[] = [
  [0, 0, -2.5], // 0 left, from the input side
  [3.5, 0, 0], // 1 front
  [0, 0, 2.5], // 2 right
  [-2.5, 0, 2.5], // 3 back-right
  [-2.75, -1, 1.25], // 4 lower back-right
  [-2, 2, -2], // 5 upper back-left
  [-2, 2, 2], // 6 upper back-right
  [-2.75, -1, -1.25], // 7 lower back-left (the original: back, which framing makes the same as 9)
  [0, 3.5, 0.01], // 8 top (a hair off the pole keeps the orbit's up vector defined)
  [-3.5, 0, 0], // 9 default
];

export const PRESET_COUNT = PRESETS.length;
/** Share of the free canvas's limiting dimension that the robust box of the fitted points spans (the rest is margin). */
export const FILL = 0.88;
/**
 * The robust box: from this percentile of the points' projections to its mirror (across and up separately), so
 * the outermost ~2 % of the points — a few stray nodes or strands — may leave the canvas instead of shrinking
 * the network to a corner of it. The picture figure (docs/viewer.md) measures the ink the same way.
 */
const ROBUST_LOW = 0.02;
/**
 * The box also holds the middle of every layer: the box of its drawn nodes from this percentile (by area) to
 * its mirror. A layer whose few nodes and edges are under 2 % of the ink (the output layer of 784-81-49-10, its
 * classes) would otherwise be trimmed whole; the middle half, not the whole layer, so that a layer's own strays
 * may still leave (with the whole layer, oblique presets framed Fashion-MNIST at 0.73 instead of 0.82 of the
 * canvas).
 */
const LAYER_LOW = 0.25;
// Moves of the target that centre the robust box (each pass halves what is left, or better).
const CENTRING_PASSES = 2;
// The fitted distance is bracketed by doubling, then bisected to a ratio of 2^(1/2^BISECTIONS) ≈ 1 + 1e-4.
const MAX_DOUBLINGS = 30;
const BISECTIONS = 14;
// Resolution of the weighted quantiles: this many bins over the range of the projections.
const QUANTILE_BINS = 4096;
// Clip planes relative to the fitted distance: close enough to fly in, far enough to zoom well out.
const NEAR_PLANE = 0.001;
const FAR_PLANE = 100;
// The camera stays at least this many radii of the network's bounding sphere from its centre.
const OUTSIDE = 1.1;

/** The direction of preset `index` (unit length into `out`). */
export function presetDirection(index: number, out: Vector3): Vector3 {
  const offset = PRESETS[index];
  if (offset === undefined) throw new RangeError(`camera preset ${index} does not exist (0-${PRESET_COUNT - 1})`);
  return out.set(offset[0], offset[1], offset[2]).normalize();
}

/**
 * Drawn elements: centres (x, y, z flat), the radius each is drawn with, and its area as drawn. The first ones
 * may be nodes, layer by layer: elements `layers[k]` to `layers[k + 1] - 1` are layer k's (empty: no layers).
 */
export interface FitElements {
  readonly points: Float32Array;
  readonly radii: Float32Array;
  readonly areas: Float32Array;
  readonly layers: Int32Array;
}

/** What to fit: `elements` into a free canvas of `aspect` = width / height. */
export interface FitTarget {
  readonly elements: FitElements;
  readonly aspect: number;
}

const rightAxis = new Vector3();
const upAxis = new Vector3();
const back = new Vector3();

/**
 * Put `camera` on the ray from `target` along unit `direction`, looking at `target`, at the distance where the
 * robust box of the elements of `fit` spans FILL of the free canvas's limiting dimension, centred on it. The
 * box runs from the ROBUST_LOW to the 1 − ROBUST_LOW quantile of the elements' projected extents (across and up
 * separately), each element weighed by its projected area: what the ink on screen is made of, so a big node
 * near the camera counts for much and a stray hairline for little. `target` moves across the view to centre the
 * box (perspective makes the near side of the network larger than the far side). The model misses what the
 * renderer adds (faint fringes, ellipsoid tips): `correctFit` then corrects it from the drawn pixels.
 */
export function fitCamera(camera: PerspectiveCamera, target: Vector3, direction: Vector3, fit: FitTarget): void {
  const view = new View(camera, target, direction, fit);
  let distance = view.nearest;
  for (let pass = 0; pass < CENTRING_PASSES; pass++) {
    distance = view.fitDistance(FILL);
    const [shiftU, shiftV] = view.projected.measure(target, distance).centre;
    view.shift(shiftU * distance, shiftV * distance);
  }
  view.place(view.fitDistance(FILL));
}

/** A box across and up: in tangent units of the camera, or as an `InkBox` in shares of the free canvas. */
interface Box {
  readonly left: number;
  readonly right: number;
  readonly bottom: number;
  readonly top: number;
}

/**
 * Where the ink lies on the canvas drawn from the current camera: its robust box in shares of the free canvas,
 * columns from 0 at its left edge to 1 at its right edge (the panel's left edge), rows from 0 at the bottom to 1
 * at the top.
 */
export type InkBox = Box;

/**
 * Correct a fit (`camera` looking at `target` from along `direction`) by the `ink` it drew: move `target` so
 * the ink box is centred on the free canvas, and scale the distance by how much wider than the model the ink
 * came out, so that the ink spans FILL. The ink box is widened to every layer's robust box first (the pixels do
 * not say which layer they show).
 */
export function correctFit(camera: PerspectiveCamera, target: Vector3, direction: Vector3, fit: FitTarget, drawn: InkBox): void {
  const distance = camera.position.distanceTo(target);
  const view = new View(camera, target, direction, fit);
  const { share: modelShare, layers } = view.projected.measure(target, distance);
  // Tangent units to shares of the free canvas, across and up.
  const toShare = (tangent: number, half: number): number => 0.5 + tangent / (2 * half);
  const across = view.tanHalf * fit.aspect;
  const ink =
    layers === null
      ? drawn
      : union(drawn, {
          left: toShare(layers.left, across),
          right: toShare(layers.right, across),
          bottom: toShare(layers.bottom, view.tanHalf),
          top: toShare(layers.top, view.tanHalf),
        });
  const inkShare = Math.max(ink.right - ink.left, ink.top - ink.bottom);
  if (!(inkShare > 0) || !(modelShare > 0)) return;
  const tanHalf = view.tanHalf;
  view.shift(
    (ink.left + ink.right - 1) * tanHalf * fit.aspect * distance,
    (ink.bottom + ink.top - 1) * tanHalf * distance,
  );
  view.place(view.fitDistance((FILL * modelShare) / inkShare));
}

/** The robust box of pixel `ink` (1 where drawn) as fractions of the free canvas: see `InkBox`. */
export function inkBox(drawn: (column: number, row: number) => boolean, width: number, height: number, freeWidth: number): InkBox | null {
  const columns = new Float64Array(width);
  const rows = new Float64Array(height);
  let total = 0;
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      if (!drawn(column, row)) continue;
      columns[column] = (columns[column] as number) + 1;
      rows[row] = (rows[row] as number) + 1;
      total++;
    }
  }
  if (total === 0) return null;
  const at = (counts: Float64Array, q: number): number => {
    let sum = 0;
    for (let i = 0; i < counts.length; i++) {
      sum += counts[i] as number;
      if (sum > q * total) return i;
    }
    return counts.length - 1;
  };
  return {
    left: at(columns, ROBUST_LOW) / freeWidth,
    right: (at(columns, 1 - ROBUST_LOW) + 1) / freeWidth,
    bottom: at(rows, ROBUST_LOW) / height,
    top: (at(rows, 1 - ROBUST_LOW) + 1) / height,
  };
}

/** A camera direction and target, with the fit's elements, in camera axes. */
class View {
  readonly tanHalf: number;
  readonly nearest: number;
  readonly projected: Projected;
  private readonly scale: number;

  constructor(
    private readonly camera: PerspectiveCamera,
    private readonly target: Vector3,
    private readonly direction: Vector3,
    fit: FitTarget,
  ) {
    camera.position.copy(target).add(direction);
    camera.lookAt(target);
    camera.updateMatrixWorld();
    camera.matrixWorld.extractBasis(rightAxis, upAxis, back);
    this.tanHalf = Math.tan((camera.fov * Math.PI) / 360);
    this.scale = boundingRadius(fit.elements.points, target);
    this.nearest = OUTSIDE * this.scale;
    this.projected = new Projected(fit.elements, fit.aspect, this.tanHalf);
  }

  /** Move the target across the view by `across` and `upward` (world units). */
  shift(across: number, upward: number): void {
    this.target.addScaledVector(rightAxis, across).addScaledVector(upAxis, upward);
  }

  /** The distance (at least `nearest`) at which the robust box spans `fill`: see `fitDistance`. */
  fitDistance(fill: number): number {
    return fitDistance(this.projected, this.target, this.nearest, fill);
  }

  place(distance: number): void {
    const { camera, target } = this;
    camera.position.copy(target).addScaledVector(this.direction, distance);
    camera.near = distance * NEAR_PLANE;
    camera.far = distance + FAR_PLANE * this.scale;
    camera.lookAt(target);
    camera.updateProjectionMatrix();
  }
}

/**
 * The distance (at least `nearest`) at which the robust box spans `fill`: bisection, since near the network the
 * share grows steeply (elements close to the camera swell) and a fixed-point step would overshoot.
 */
function fitDistance(projected: Projected, target: Vector3, nearest: number, fill: number): number {
  const share = (distance: number): number => projected.measure(target, distance).share;
  if (share(nearest) <= fill) return nearest;
  let low = nearest;
  let high = 2 * nearest;
  for (let i = 0; i < MAX_DOUBLINGS && share(high) > fill; i++) {
    low = high;
    high *= 2;
  }
  for (let i = 0; i < BISECTIONS; i++) {
    const middle = Math.sqrt(low * high);
    if (share(middle) > fill) low = middle;
    else high = middle;
  }
  return high;
}

/** The elements seen from a distance along `back` around a target, in tangent units (offset / depth). */
class Projected {
  /** Low and high edges of each element's projection, across and up. */
  private readonly left: Float32Array;
  private readonly right: Float32Array;
  private readonly bottom: Float32Array;
  private readonly top: Float32Array;
  /** Weight (projected area) of each element. */
  private readonly weight: Float32Array;
  private readonly bins = new Float64Array(QUANTILE_BINS);

  constructor(
    private readonly elements: FitElements,
    private readonly aspect: number,
    private readonly tanHalf: number,
  ) {
    const count = elements.radii.length;
    this.left = new Float32Array(count);
    this.right = new Float32Array(count);
    this.bottom = new Float32Array(count);
    this.top = new Float32Array(count);
    this.weight = new Float32Array(count);
  }

  /**
   * The robust box seen from `distance`: its centre (tangent units) and its share of the free canvas, and the
   * union of the layers' boxes within it (tangent units; null without layers).
   */
  measure(target: Vector3, distance: number): { centre: [number, number]; share: number; layers: Box | null } {
    this.project(target, distance);
    const all = this.robustBox(0, this.weight.length, ROBUST_LOW);
    const layers = this.layersBox();
    const { left, right, bottom, top } = layers === null ? all : union(all, layers);
    return {
      centre: [(left + right) / 2, (bottom + top) / 2],
      share: Math.max((right - left) / (2 * this.tanHalf * this.aspect), (top - bottom) / (2 * this.tanHalf)),
      layers,
    };
  }

  /** The union of the layers' boxes of the current projection (null without layers). */
  private layersBox(): Box | null {
    const { layers } = this.elements;
    let box: Box | null = null;
    for (let k = 0; k + 1 < layers.length; k++) {
      const begin = layers[k] as number;
      const end = layers[k + 1] as number;
      if (end > begin) box = box === null ? this.robustBox(begin, end, LAYER_LOW) : union(box, this.robustBox(begin, end, LAYER_LOW));
    }
    return box;
  }

  private robustBox(begin: number, end: number, low: number): Box {
    return {
      left: this.quantile(this.left, low, begin, end),
      right: this.quantile(this.right, 1 - low, begin, end),
      bottom: this.quantile(this.bottom, low, begin, end),
      top: this.quantile(this.top, 1 - low, begin, end),
    };
  }

  /** Each element's projected extent and weight seen from `distance` around `target`. */
  private project(target: Vector3, distance: number): void {
    const { points, radii, areas } = this.elements;
    for (let i = 0; i < radii.length; i++) {
      const px = (points[3 * i] as number) - target.x;
      const py = (points[3 * i + 1] as number) - target.y;
      const pz = (points[3 * i + 2] as number) - target.z;
      const depth = Math.max(distance - (px * back.x + py * back.y + pz * back.z), Number.EPSILON);
      const u = (px * rightAxis.x + py * rightAxis.y + pz * rightAxis.z) / depth;
      const v = (px * upAxis.x + py * upAxis.y + pz * upAxis.z) / depth;
      const reach = (radii[i] as number) / depth;
      this.left[i] = u - reach;
      this.right[i] = u + reach;
      this.bottom[i] = v - reach;
      this.top[i] = v + reach;
      this.weight[i] = (areas[i] as number) / (depth * depth);
    }
  }

  /**
   * The value below which a share `q` of the weight of elements `begin` to `end - 1` lies, to 1/QUANTILE_BINS
   * of their values' range.
   */
  private quantile(values: Float32Array, q: number, begin: number, end: number): number {
    let low = Infinity;
    let high = -Infinity;
    let total = 0;
    for (let i = begin; i < end; i++) {
      low = Math.min(low, values[i] as number);
      high = Math.max(high, values[i] as number);
      total += this.weight[i] as number;
    }
    if (!(high > low) || !(total > 0)) return end > begin ? low : 0;
    const { bins } = this;
    bins.fill(0);
    const perBin = QUANTILE_BINS / (high - low);
    for (let i = begin; i < end; i++) {
      const bin = Math.min(QUANTILE_BINS - 1, Math.floor(((values[i] as number) - low) * perBin));
      bins[bin] = (bins[bin] as number) + (this.weight[i] as number);
    }
    let sum = 0;
    for (let bin = 0; bin < QUANTILE_BINS; bin++) {
      sum += bins[bin] as number;
      if (sum >= q * total) return low + (bin + 1) / perBin;
    }
    return high;
  }
}

function union(a: Box, b: Box): Box {
  return {
    left: Math.min(a.left, b.left),
    right: Math.max(a.right, b.right),
    bottom: Math.min(a.bottom, b.bottom),
    top: Math.max(a.top, b.top),
  };
}

function boundingRadius(points: Float32Array, centre: Vector3): number {
  let radius = Number.EPSILON;
  for (let i = 0; i < points.length; i += 3) {
    const dx = (points[i] as number) - centre.x;
    const dy = (points[i + 1] as number) - centre.y;
    const dz = (points[i + 2] as number) - centre.z;
    radius = Math.max(radius, Math.hypot(dx, dy, dz));
  }
  return radius;
}
