/**
 * Camera presets of ALGORITHM.md 5 (keys 0-9): offsets from the network's centre for a network whose layout
 * box has a half-diagonal of about 1 (the default 784-81-49-10 layout: 1.03), scaled with the actual size.
 * z is the layer axis (input at −z), y is up.
 */

import type { Box3, PerspectiveCamera, Vector3 } from "three";

export const FIELD_OF_VIEW_DEGREES = 45;
export const DEFAULT_PRESET = 9;

const PRESETS: readonly (readonly [number, number, number])[] = [
  [0, 0, -2.5], // 0 left, from the input side
  [3.5, 0, 0], // 1 front
  [0, 0, 2.5], // 2 right
  [-2.5, 0, 2.5], // 3 back-right
  [-2.75, -1, 1.25], // 4 lower back-right
  [-2, 2, -2], // 5 upper back-left
  [-2, 2, 2], // 6 upper back-right
  [-4, 0, 0], // 7 back
  [0, 3.5, 0.01], // 8 top (a hair off the pole keeps the orbit's up vector defined)
  [-3.5, 0, 0], // 9 default
];

export const PRESET_COUNT = PRESETS.length;
// Clip planes relative to the network's size: close enough to fly in, far enough for every preset.
const NEAR_PLANE = 0.01;
const FAR_PLANE = 100;

/** Put `camera` at preset `index` around `box` and return the point it looks at in `target`. */
export function applyPreset(index: number, box: Box3, camera: PerspectiveCamera, target: Vector3): void {
  const offset = PRESETS[index];
  if (offset === undefined) throw new RangeError(`camera preset ${index} does not exist (0-${PRESET_COUNT - 1})`);
  box.getCenter(target);
  const scale = Math.max(box.min.distanceTo(box.max) / 2, Number.EPSILON);
  camera.position.set(offset[0], offset[1], offset[2]).multiplyScalar(scale).add(target);
  camera.near = scale * NEAR_PLANE;
  camera.far = scale * FAR_PLANE;
  camera.updateProjectionMatrix();
  camera.lookAt(target);
}
