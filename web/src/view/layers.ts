/**
 * Drawable layers: one three.js object per primitive type, split into chunks of consecutive elements (one draw
 * call and one set of GPU buffers each), so that a picture can be drawn a few chunks at a time and the most
 * important prefix alone while the view moves. Every per-element input is a view into typed arrays shared with
 * the caller (nothing is copied on the CPU); colours are updated in place.
 */

import {
  BufferAttribute,
  BufferGeometry,
  Float32BufferAttribute,
  Group,
  InstancedBufferAttribute,
  InstancedBufferGeometry,
  InstancedInterleavedBuffer,
  InterleavedBufferAttribute,
  LineSegments,
  Mesh,
  Points,
  type ShaderMaterial,
} from "three";
import type { PositionArray } from "../samples.js";

/**
 * Per-element inputs: positions (K, 3) (half floats where the browser has them), colours (K, 4) bytes as
 * fractions of 255, (score, t) (K, 2) as fractions of 65535; `chunks`: where each chunk starts, then K.
 */
export interface ElementArrays {
  readonly positions: PositionArray;
  readonly colours: Uint8Array;
  readonly scoreAndT: Uint16Array;
  readonly count: number;
  readonly chunks: Uint32Array;
}

export interface Layer {
  readonly object: Group;
  /** Where each chunk starts, then the element count. */
  readonly chunks: Uint32Array;
  /** Bytes of GPU buffers the layer allocates. */
  readonly gpuBytes: number;
  /** Call after the shared colour array changed. */
  coloursChanged(): void;
  /**
   * Draw elements `from` … `to` - 1 from the next frame on: `from` rounds down to its chunk's start (drawing a
   * chunk again changes no pixel: the blending is MIN/MAX or depth-tested), `to` may end inside a chunk.
   */
  show(from: number, to: number): void;
  dispose(): void;
}

/** One chunk: its object and how to draw its first `n` elements. */
interface Chunk {
  readonly object: Mesh | Points | LineSegments;
  readonly colours: { needsUpdate: boolean };
  readonly bytes: number;
  draw(n: number): void;
}

const QUAD_CORNERS = [-1, -1, 0, 1, -1, 0, 1, 1, 0, -1, 1, 0];
const QUAD_TRIANGLES = [0, 1, 2, 0, 2, 3];

/** The part of `arrays` that chunk `a` … `b` - 1 reads. */
function slice(
  arrays: ElementArrays,
  a: number,
  b: number,
): { positions: Float32Array; colours: Uint8Array; scores: Uint16Array } {
  return {
    // three uploads a Float16Array as HALF_FLOAT; only its typings predate Float16Array.
    positions: arrays.positions.subarray(3 * a, 3 * b) as Float32Array,
    colours: arrays.colours.subarray(4 * a, 4 * b),
    scores: arrays.scoreAndT.subarray(2 * a, 2 * b),
  };
}

function bytesOf(...arrays: ArrayBufferView[]): number {
  return arrays.reduce((sum, array) => sum + array.byteLength, 0);
}

function layer(arrays: ElementArrays, material: ShaderMaterial, build: (a: number, b: number) => Chunk): Layer {
  const group = new Group();
  const chunks: Chunk[] = [];
  for (let c = 0; c + 1 < arrays.chunks.length; c++) {
    const chunk = build(arrays.chunks[c] as number, arrays.chunks[c + 1] as number);
    chunk.object.frustumCulled = false; // the shaders move vertices; three's bounds would be wrong
    group.add(chunk.object);
    chunks.push(chunk);
  }
  return {
    object: group,
    chunks: arrays.chunks,
    gpuBytes: chunks.reduce((sum, chunk) => sum + chunk.bytes, 0),
    coloursChanged: () => {
      for (const chunk of chunks) chunk.colours.needsUpdate = true;
    },
    show: (from, to) => {
      chunks.forEach((chunk, c) => {
        const a = arrays.chunks[c] as number;
        const b = arrays.chunks[c + 1] as number;
        chunk.object.visible = b > from && a < to;
        if (chunk.object.visible) chunk.draw(Math.min(b, to) - a);
      });
    },
    dispose: () => {
      for (const chunk of chunks) chunk.object.geometry.dispose();
      material.dispose();
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
  return layer(arrays, material, (a, b) => {
    const { positions, colours, scores } = slice(arrays, a, b);
    const geometry = quadGeometry();
    const colour = new InstancedBufferAttribute(colours, 4, true);
    geometry.setAttribute("centreWorld", new InstancedBufferAttribute(positions, 3));
    geometry.setAttribute("colour", colour);
    geometry.setAttribute("scoreAndT", new InstancedBufferAttribute(scores, 2, true));
    return {
      object: new Mesh(geometry, material),
      colours: colour,
      bytes: bytesOf(positions, colours, scores),
      draw: (n) => {
        geometry.instanceCount = n;
      },
    };
  });
}

/**
 * One impostor quad per pair of consecutive samples: the same buffers read at element i and i + 1 (a second
 * attribute offset by one element), so no segment array is built; pairs that span two edges are culled in
 * the vertex shader. Chunks hold whole edges, so no segment spans two chunks.
 */
export function segmentLayer(arrays: ElementArrays, material: ShaderMaterial): Layer {
  return layer(arrays, material, (a, b) => {
    const { positions, colours, scores } = slice(arrays, a, b);
    const geometry = quadGeometry();
    const position = new InstancedInterleavedBuffer(positions, 3);
    const colour = new InstancedInterleavedBuffer(colours, 4);
    const score = new InstancedInterleavedBuffer(scores, 2);
    geometry.setAttribute("startWorld", new InterleavedBufferAttribute(position, 3, 0));
    geometry.setAttribute("endWorld", new InterleavedBufferAttribute(position, 3, 3));
    geometry.setAttribute("startColour", new InterleavedBufferAttribute(colour, 4, 0, true));
    geometry.setAttribute("endColour", new InterleavedBufferAttribute(colour, 4, 4, true));
    geometry.setAttribute("startScoreAndT", new InterleavedBufferAttribute(score, 2, 0, true));
    geometry.setAttribute("endScoreAndT", new InterleavedBufferAttribute(score, 2, 2, true));
    return {
      object: new Mesh(geometry, material),
      colours: colour,
      bytes: bytesOf(positions, colours, scores),
      draw: (n) => {
        geometry.instanceCount = Math.max(0, n - 1);
      },
    };
  });
}

function pointGeometry(
  positions: Float32Array,
  colours: Uint8Array,
  scores: Uint16Array,
): [BufferGeometry, BufferAttribute] {
  const geometry = new BufferGeometry();
  const colour = new BufferAttribute(colours, 4, true);
  geometry.setAttribute("position", new BufferAttribute(positions, 3));
  geometry.setAttribute("colour", colour);
  geometry.setAttribute("scoreAndT", new BufferAttribute(scores, 2, true));
  return [geometry, colour];
}

export function pointLayer(arrays: ElementArrays, material: ShaderMaterial): Layer {
  return layer(arrays, material, (a, b) => {
    const { positions, colours, scores } = slice(arrays, a, b);
    const [geometry, colour] = pointGeometry(positions, colours, scores);
    return {
      object: new Points(geometry, material),
      colours: colour,
      bytes: bytesOf(positions, colours, scores),
      draw: (n) => geometry.setDrawRange(0, n),
    };
  });
}

/** GL lines between consecutive samples of each edge (`offsets`: (E + 1,) polyline offsets, on chunk bounds). */
export function lineLayer(arrays: ElementArrays, offsets: Uint32Array, material: ShaderMaterial): Layer {
  let edge = 0;
  return layer(arrays, material, (a, b) => {
    const { positions, colours, scores } = slice(arrays, a, b);
    const [geometry, colour] = pointGeometry(positions, colours, scores);
    const first = edge;
    while ((offsets[edge] as number) < b) edge++;
    const nEdges = edge - first; // edges first … edge - 1 make this chunk
    const index = new Uint32Array(2 * (b - a - nEdges));
    let k = 0;
    for (let e = first; e < edge; e++) {
      for (let i = offsets[e] as number, end = (offsets[e + 1] as number) - 1; i < end; i++) {
        index[k++] = i - a;
        index[k++] = i + 1 - a;
      }
    }
    geometry.setIndex(new BufferAttribute(index, 1));
    return {
      object: new LineSegments(geometry, material),
      colours: colour,
      bytes: bytesOf(positions, colours, scores, index),
      // Pairs come in order of their first sample; the ones whose second sample is drawn.
      draw: (n) => geometry.setDrawRange(0, 2 * pairsBefore(index, n)),
    };
  });
}

/** How many pairs of `index` (flat, in increasing order) end before element `n`. */
function pairsBefore(index: Uint32Array, n: number): number {
  let low = 0;
  let high = index.length / 2;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((index[2 * middle + 1] as number) < n) low = middle + 1;
    else high = middle;
  }
  return low;
}
