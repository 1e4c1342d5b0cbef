/**
 * Drawable layers: one three.js object, one draw call, per primitive type. Every per-element input is a
 * typed array shared with the caller (positions straight from the file); colours are updated in place.
 */

import {
  BufferAttribute,
  BufferGeometry,
  Float32BufferAttribute,
  InstancedBufferAttribute,
  InstancedBufferGeometry,
  InstancedInterleavedBuffer,
  InterleavedBufferAttribute,
  LineSegments,
  Mesh,
  type Object3D,
  Points,
  type ShaderMaterial,
} from "three";

/** Per-element inputs: positions (K, 3), colours (K, 4) and (score, t) pairs (K, 2), all float32. */
export interface ElementArrays {
  readonly positions: Float32Array;
  readonly colours: Float32Array;
  readonly scoreAndT: Float32Array;
  readonly count: number;
}

export interface Layer {
  readonly object: Object3D;
  /** Call after the shared colour array changed. */
  coloursChanged(): void;
  dispose(): void;
}

const QUAD_CORNERS = [-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0];
const QUAD_TRIANGLES = [0, 1, 2, 0, 2, 3];

function layer(object: Mesh | Points | LineSegments, colourTargets: { needsUpdate: boolean }[]): Layer {
  object.frustumCulled = false; // the shaders move vertices; three's bounds would be wrong
  return {
    object,
    coloursChanged: () => {
      for (const target of colourTargets) target.needsUpdate = true;
    },
    dispose: () => {
      object.geometry.dispose();
      (object.material as ShaderMaterial).dispose();
    },
  };
}

function quadGeometry(): InstancedBufferGeometry {
  const geometry = new InstancedBufferGeometry();
  geometry.setIndex(QUAD_TRIANGLES);
  geometry.setAttribute("position", new Float32BufferAttribute(QUAD_CORNERS, 3));
  return geometry;
}

/** One impostor quad per element (a sphere). */
export function sphereLayer(arrays: ElementArrays, material: ShaderMaterial): Layer {
  const geometry = quadGeometry();
  const colours = new InstancedBufferAttribute(arrays.colours, 4);
  geometry.setAttribute("centreWorld", new InstancedBufferAttribute(arrays.positions, 3));
  geometry.setAttribute("colour", colours);
  geometry.setAttribute("scoreAndT", new InstancedBufferAttribute(arrays.scoreAndT, 2));
  geometry.instanceCount = arrays.count;
  return layer(new Mesh(geometry, material), [colours]);
}

/**
 * One impostor quad per pair of consecutive samples: the same buffers read at element i and i + 1 (a second
 * attribute offset by one element), so no segment array is built; pairs that span two edges are culled in
 * the vertex shader.
 */
export function segmentLayer(arrays: ElementArrays, material: ShaderMaterial): Layer {
  const geometry = quadGeometry();
  const positions = new InstancedInterleavedBuffer(arrays.positions, 3);
  const colours = new InstancedInterleavedBuffer(arrays.colours, 4);
  const scores = new InstancedInterleavedBuffer(arrays.scoreAndT, 2);
  geometry.setAttribute("startWorld", new InterleavedBufferAttribute(positions, 3, 0));
  geometry.setAttribute("endWorld", new InterleavedBufferAttribute(positions, 3, 3));
  geometry.setAttribute("startColour", new InterleavedBufferAttribute(colours, 4, 0));
  geometry.setAttribute("endColour", new InterleavedBufferAttribute(colours, 4, 4));
  geometry.setAttribute("startScoreAndT", new InterleavedBufferAttribute(scores, 2, 0));
  geometry.setAttribute("endScoreAndT", new InterleavedBufferAttribute(scores, 2, 2));
  geometry.instanceCount = Math.max(0, arrays.count - 1);
  return layer(new Mesh(geometry, material), [colours]);
}

function pointGeometry(arrays: ElementArrays): [BufferGeometry, BufferAttribute] {
  const geometry = new BufferGeometry();
  const colours = new BufferAttribute(arrays.colours, 4);
  geometry.setAttribute("position", new BufferAttribute(arrays.positions, 3));
  geometry.setAttribute("colour", colours);
  geometry.setAttribute("scoreAndT", new BufferAttribute(arrays.scoreAndT, 2));
  return [geometry, colours];
}

export function pointLayer(arrays: ElementArrays, material: ShaderMaterial): Layer {
  const [geometry, colours] = pointGeometry(arrays);
  return layer(new Points(geometry, material), [colours]);
}

/** GL lines between consecutive samples of each edge (`offsets`: (E + 1,) polyline offsets). */
export function lineLayer(arrays: ElementArrays, offsets: Uint32Array, material: ShaderMaterial): Layer {
  const [geometry, colours] = pointGeometry(arrays);
  const nEdges = offsets.length - 1;
  const index = new Uint32Array(2 * (arrays.count - nEdges));
  let k = 0;
  for (let e = 0; e < nEdges; e++) {
    for (let i = offsets[e] as number, end = (offsets[e + 1] as number) - 1; i < end; i++) {
      index[k++] = i;
      index[k++] = i + 1;
    }
  }
  geometry.setIndex(new BufferAttribute(index, 1));
  return layer(new LineSegments(geometry, material), [colours]);
}
