// The viewer's parser against the shared corpus of tests/corpus/ (the Python reader is tested on the same files
// by tests/test_format_corpus.py): every valid file reads to what the manifest says, every broken one is
// refused with one line naming the file, the field and the reason.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { FormatError, parse, type NetworkData } from "../src/format.js";

interface Entry {
  file: string;
  valid: boolean;
  field?: string;
  reason?: string;
  version?: string;
  kind?: string;
  layer_sizes?: number[];
  layer_names?: string[];
  layer_kinds?: string[];
  class_names?: string[];
  edges?: number;
  skip_edges?: number;
  samples?: number;
}

// This file runs from web/.test-build/ (see build.mjs).
const corpus = new URL("../../tests/corpus/files/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", corpus), "utf8")) as Entry[];

function read(file: string): NetworkData {
  const bytes = readFileSync(new URL(file, corpus));
  // A fresh ArrayBuffer holding only the file, as fetch() gives the viewer.
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return parse(buffer, file);
}

function skipEdges(data: NetworkData): number {
  const layerOf: number[] = data.layerSizes.flatMap((size, layer) => Array<number>(size).fill(layer));
  let skips = 0;
  for (let e = 0; e < data.nEdges; e++) {
    if ((layerOf[data.edgeTarget[e] as number] as number) - (layerOf[data.edgeSource[e] as number] as number) > 1) skips++;
  }
  return skips;
}

test("the corpus has valid and broken files", () => {
  assert.ok(manifest.filter((entry) => entry.valid).length >= 4);
  assert.ok(manifest.filter((entry) => !entry.valid).length >= 50);
});

for (const entry of manifest) {
  if (entry.valid) {
    test(`${entry.file} reads`, () => {
      const data = read(entry.file);
      assert.equal(data.version, entry.version);
      assert.equal(data.kind, entry.kind);
      assert.deepEqual([...data.layerSizes], entry.layer_sizes);
      assert.deepEqual([...data.layerNames], entry.layer_names);
      assert.deepEqual([...data.layerKinds], entry.layer_kinds);
      assert.deepEqual([...data.classNames], entry.class_names);
      assert.equal(data.nEdges, entry.edges);
      assert.equal(skipEdges(data), entry.skip_edges);
      assert.equal(data.nSamples, entry.samples);
    });
  } else {
    test(`${entry.file} is refused naming ${entry.field}`, () => {
      assert.throws(
        () => read(entry.file),
        (error: unknown) => {
          assert.ok(error instanceof FormatError, String(error));
          const message = error.message;
          assert.ok(message.startsWith(`${entry.file}: `), message);
          assert.ok(message.includes(entry.field as string), `${message} does not name ${entry.field}`);
          assert.ok(message.includes(entry.reason as string), `${message} does not say ${entry.reason}`);
          assert.ok(!message.includes("\n"), message);
          return true;
        },
      );
    });
  }
}

test("an unaligned file (copied tensors) reads the same values as the aligned one", () => {
  const aligned = read("v2-network-with-skip.nnscape");
  const unaligned = read("v2-unaligned.nnscape");
  const bytes = readFileSync(new URL("v2-unaligned.nnscape", corpus));
  assert.notEqual((8 + Number(bytes.readBigUInt64LE(0))) % 4, 0); // its data section starts unaligned
  for (const key of ["nodeImportance", "nodePosition", "edgeSource", "edgeTarget", "edgeWeight", "edgeImportance"] as const) {
    assert.deepEqual([...unaligned[key]], [...aligned[key]], key);
  }
});
