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
/** Share of the free canvas's limiting dimension that ROBUST_SHARE of the fitted points span (the rest is margin). */
export const FILL = 0.92;
const ROBUST_SHARE = 0.98;
/** …and that every fitted point spans at most: a thin white margin stays around the picture. */
const FILL_ALL = 0.97;
// Moves of the target that centre the points' projection (each pass halves what is left, or better).
const CENTRING_PASSES = 2;
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

/** What to fit: points (x, y, z flat) each padded by `radius`, into a free canvas of `aspect` = width / height. */
export interface FitTarget {
  readonly points: Float32Array;
  readonly radius: number;
  readonly aspect: number;
}

const right = new Vector3();
const up = new Vector3();
const back = new Vector3();

/**
 * Put `camera` on the ray from `target` along unit `direction`, looking at `target`, at the distance where
 * ROBUST_SHARE of the points of `fit` lie within FILL of the free canvas (whose centre the projection is centred
 * on) and all of them within FILL_ALL: stray points do not shrink the picture, none leaves the canvas.
 * `target` first moves across the view so that the points' projection is centred (perspective makes the near
 * side of the network larger than the far side).
 */
export function fitCamera(camera: PerspectiveCamera, target: Vector3, direction: Vector3, fit: FitTarget): void {
  camera.position.copy(target).add(direction);
  camera.lookAt(target);
  camera.updateMatrixWorld();
  camera.matrixWorld.extractBasis(right, up, back);
  const tanHalf = Math.tan((camera.fov * Math.PI) / 360);
  let distance = 0;
  for (let pass = 0; pass < CENTRING_PASSES; pass++) {
    distance = fitDistance(fit, target, tanHalf);
    const [shiftU, shiftV] = projectionCentre(fit.points, target, distance);
    target.addScaledVector(right, shiftU * distance).addScaledVector(up, shiftV * distance);
  }
  distance = fitDistance(fit, target, tanHalf);
  const scale = boundingRadius(fit.points, target);
  camera.position.copy(target).addScaledVector(direction, Math.max(distance, OUTSIDE * scale));
  camera.near = distance * NEAR_PLANE;
  camera.far = distance + FAR_PLANE * scale;
  camera.lookAt(target);
  camera.updateProjectionMatrix();
}

/** The camera distance from `target` that fits the points (see fitCamera), with the basis vectors set. */
function fitDistance(fit: FitTarget, target: Vector3, tanHalf: number): number {
  const { points, radius, aspect } = fit;
  const count = points.length / 3;
  // For a point at (u, v, w) in camera axes around the target, seen from distance d, the projection fits a
  // share f of the free canvas when |u| + r ≤ (d − w)·tan·aspect·f and |v| + r ≤ (d − w)·tan·f.
  const fitted = new Float32Array(count);
  let all = 0;
  for (let i = 0; i < count; i++) {
    const px = (points[3 * i] as number) - target.x;
    const py = (points[3 * i + 1] as number) - target.y;
    const pz = (points[3 * i + 2] as number) - target.z;
    const u = Math.abs(px * right.x + py * right.y + pz * right.z) + radius;
    const v = Math.abs(px * up.x + py * up.y + pz * up.z) + radius;
    const w = px * back.x + py * back.y + pz * back.z;
    const reach = Math.max(u / (tanHalf * aspect), v / tanHalf);
    fitted[i] = w + reach / FILL;
    all = Math.max(all, w + reach / FILL_ALL);
  }
  return Math.max(quantile(fitted, ROBUST_SHARE), all);
}

/** Middle of the points' projected extent (tangent units, across and up) seen from `distance` along `back`. */
function projectionCentre(points: Float32Array, target: Vector3, distance: number): [number, number] {
  const count = points.length / 3;
  const across = new Float32Array(count);
  const upward = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const px = (points[3 * i] as number) - target.x;
    const py = (points[3 * i + 1] as number) - target.y;
    const pz = (points[3 * i + 2] as number) - target.z;
    const depth = Math.max(distance - (px * back.x + py * back.y + pz * back.z), Number.EPSILON);
    across[i] = (px * right.x + py * right.y + pz * right.z) / depth;
    upward[i] = (px * up.x + py * up.y + pz * up.z) / depth;
  }
  // The full extent: the farthest points are what the "all within FILL_ALL" bound holds, on both sides alike.
  const middle = (values: Float32Array): number => (quantile(values, 0) + quantile(values, 1)) / 2;
  return [middle(across), middle(upward)];
}

/** The value below which a share `q` of `values` lies (sorts `values`). */
function quantile(values: Float32Array, q: number): number {
  values.sort();
  return values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
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
