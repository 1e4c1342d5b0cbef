// The camera's framing (camera.ts): the robust box lets the outermost 2 % of the ink leave the canvas, but never a
// whole layer, however little of the picture it is (the output layer of 784-81-49-10 is under 1 % of it).
import assert from "node:assert/strict";
import { test } from "node:test";
import { PerspectiveCamera, Vector3 } from "three";
import { correctFit, DEFAULT_PRESET, FIELD_OF_VIEW_DEGREES, type FitElements, fitCamera, presetDirection } from "../src/view/camera.js";

const ASPECT = 16 / 9;
const BIG = 2000; // nodes of the first layer, spread over its square at z = 0
const SMALL = 5; // nodes of the last layer, at z = 3

/** A big layer and a small far one, as nodes (with `layered`, each layer's range of elements) */
function elements(layered: boolean): FitElements {
  const count = BIG + SMALL;
  const points = new Float32Array(3 * count);
  let seed = 1;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  for (let i = 0; i < BIG; i++) points.set([random() - 0.5, random() - 0.5, 0], 3 * i);
  for (let i = 0; i < SMALL; i++) points.set([(i - 2) / 8, 0, 3], 3 * (BIG + i));
  const radii = new Float32Array(count).fill(0.02);
  const areas = new Float32Array(count).fill(Math.PI * 0.02 * 0.02);
  return { points, radii, areas, layers: new Int32Array(layered ? [0, BIG, count] : []) };
}

/** Whether every node of the small layer projects inside the canvas. */
function smallLayerInside(camera: PerspectiveCamera, fit: FitElements): boolean {
  camera.updateMatrixWorld();
  for (let i = BIG; i < BIG + SMALL; i++) {
    const p = new Vector3().fromArray(fit.points, 3 * i).project(camera);
    if (Math.abs(p.x) > 1 || Math.abs(p.y) > 1) return false;
  }
  return true;
}

function fitted(fit: FitElements): { camera: PerspectiveCamera; target: Vector3; direction: Vector3 } {
  const camera = new PerspectiveCamera(FIELD_OF_VIEW_DEGREES, ASPECT, 0.01, 100);
  const target = new Vector3(0, 0, 1.5);
  const direction = presetDirection(DEFAULT_PRESET, new Vector3());
  fitCamera(camera, target, direction, { elements: fit, aspect: ASPECT });
  return { camera, target, direction };
}

test("a layer under 2 % of the picture is trimmed whole without its layer range, and kept with it", () => {
  const unlayered = elements(false);
  assert.equal(smallLayerInside(fitted(unlayered).camera, unlayered), false, "the trimming this guards against");
  const layered = elements(true);
  assert.ok(smallLayerInside(fitted(layered).camera, layered));
});

test("correcting the fit by drawn ink that misses a small layer keeps the layer in view", () => {
  const fit = elements(true);
  const { camera, target, direction } = fitted(fit);
  // Pixels say nothing of layers: an ink box around the big layer alone, as the trimmed ink gives.
  const big = { left: 0.05, right: 0.45, bottom: 0.2, top: 0.8 };
  correctFit(camera, target, direction, { elements: fit, aspect: ASPECT }, big);
  assert.ok(smallLayerInside(camera, fit));
});
