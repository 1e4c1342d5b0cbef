// The draw order of edge samples (samples.ts) on a processed file of the shared corpus: every edge once, the
// strongest first, each edge's polyline intact, and the prefix that a threshold keeps holding every sample above it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { sampleColours } from "../src/colours.js";
import { parse, type NetworkData } from "../src/format.js";
import { edgeSamples, nodeScores, shownPrefix, UNIT16 } from "../src/samples.js";

function read(file: string): NetworkData {
  const bytes = readFileSync(new URL(`../../tests/corpus/files/${file}`, import.meta.url));
  return parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, file);
}

const data = read("v2-processed.nnscape");
const samples = edgeSamples(data, nodeScores(data), 15);

test("positions are filled in on demand, whole edges at a time, and map back to the file", () => {
  assert.equal(samples.filled, 0);
  samples.fill(1);
  assert.equal(samples.filled, samples.offsets[1]);
  samples.fill(samples.count);
  assert.equal(samples.filled, samples.count);
  for (let i = 0; i < samples.count; i++) {
    const x = samples.filePoints[samples.fileIndex(i)] as number;
    assert.ok(Math.abs((samples.positions[3 * i] as number) - x) <= Math.abs(x) / 2048);
  }
});

test("every edge is drawn once, strongest peak first, ties in file order", () => {
  assert.deepEqual([...samples.order].sort((a, b) => a - b), Array.from({ length: data.nEdges }, (_, e) => e));
  for (let k = 1; k < data.nEdges; k++) {
    const [before, now] = [samples.peaks[k - 1] as number, samples.peaks[k] as number];
    assert.ok(before > now || (before === now && (samples.order[k - 1] as number) < (samples.order[k] as number)));
  }
});

test("each drawn edge carries its file polyline, t from 0 to 1 and its peak score", () => {
  const fileOffsets = data.edgeOffsets as Uint32Array;
  const points = data.edgePoints as Float32Array;
  for (let k = 0; k < data.nEdges; k++) {
    const e = samples.order[k] as number;
    const [first, last] = [samples.offsets[k] as number, (samples.offsets[k + 1] as number) - 1];
    assert.equal(last - first, (fileOffsets[e + 1] as number) - 1 - (fileOffsets[e] as number));
    for (let i = 0; i <= last - first; i++) {
      for (let axis = 0; axis < 3; axis++) {
        const expected = points[3 * ((fileOffsets[e] as number) + i) + axis] as number;
        // Half floats keep 11 significant bits.
        const drawn = samples.positions[3 * (first + i) + axis] as number;
        assert.ok(Math.abs(drawn - expected) <= Math.abs(expected) / 2048);
      }
    }
    assert.equal(samples.scoreAndT[2 * first + 1], 0);
    assert.equal(samples.scoreAndT[2 * last + 1], UNIT16);
    let peak = 0;
    for (let i = first; i <= last; i++) peak = Math.max(peak, samples.scoreAndT[2 * i] as number);
    assert.equal(peak, samples.peaks[k]);
  }
});

test("the prefix a threshold keeps holds every sample above it and nothing after it is above it", () => {
  const scores = Array.from({ length: samples.count }, (_, i) => (samples.scoreAndT[2 * i] as number) / UNIT16);
  for (const threshold of [0, 0.1, 0.3, 0.6, 1]) {
    const prefix = shownPrefix(samples, (peak) => peak > threshold);
    assert.ok(scores.slice(prefix).every((score) => score <= threshold), `threshold ${threshold}`);
    const edgesKept = samples.peaks.filter((peak) => peak / UNIT16 > threshold).length;
    assert.equal(prefix, samples.offsets[edgesKept]);
  }
});

test("independent view: a sample's α_v is its score in 8 bits", () => {
  const nodeColour = new Float32Array(4 * data.nNodes);
  const out = new Uint8Array(4 * samples.count);
  sampleColours(data, samples, nodeColour, "independent", out);
  for (let i = 0; i < samples.count; i++) {
    assert.equal(out[4 * i + 3], Math.round((255 * (samples.scoreAndT[2 * i] as number)) / UNIT16));
  }
});
