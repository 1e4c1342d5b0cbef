/**
 * Reading `.nnscape` files (safetensors) in the browser: a pure `parse(buffer)`, separate from fetching.
 *
 * The format is specified in docs/format.md; this parser applies the same rules as the Python reader
 * (`nnscape.io`), in the same order, and both are tested on the files of tests/corpus/. Layout of the bytes: an
 * 8-byte little-endian header length, a JSON header (tensor name → dtype, shape, data_offsets; `__metadata__` →
 * string map), then the raw little-endian tensors, which must cover the rest of the file exactly. Typed arrays
 * are views straight into the buffer whenever the offsets are aligned (the Python writer aligns them), copies
 * otherwise. A bad file becomes one `FormatError` naming the file and the field, never garbage on screen.
 */

export type NetworkKind = "network" | "processed";

/** A network as the viewer holds it: typed arrays, no object per node, edge or sample. */
export interface NetworkData {
  readonly kind: NetworkKind;
  /** The file's format version ("1" or "2"). */
  readonly version: string;
  /** Nodes per layer, input first. */
  readonly layerSizes: readonly number[];
  /** One name and one kind ("input", "linear", "conv", …) per layer; defaults for version 1 files. */
  readonly layerNames: readonly string[];
  readonly layerKinds: readonly string[];
  readonly classNames: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** (N, C) float32, row-major: importance of node n for class c at `n * C + c`. */
  readonly nodeImportance: Float32Array;
  /** (N, 3) float32: x, y in the layer slice, z along the layer axis. */
  readonly nodePosition: Float32Array;
  /** (E,) int32 global node indices; the target lies in a later layer (the next one, or beyond for a skip). */
  readonly edgeSource: Int32Array;
  readonly edgeTarget: Int32Array;
  /** (E,) float32 trained weight and importance in [0, 1]. */
  readonly edgeWeight: Float32Array;
  readonly edgeImportance: Float32Array;
  /** (E + 1,) polyline offsets into `edgePoints` (processed files only). */
  readonly edgeOffsets: Uint32Array | null;
  /** (S, 3) float32 polyline points (processed files only). */
  readonly edgePoints: Float32Array | null;
  readonly nNodes: number;
  readonly nEdges: number;
  readonly nClasses: number;
  /** Polyline points of a processed file, 0 for a plain network. */
  readonly nSamples: number;
}

export class FormatError extends Error {
  override readonly name = "FormatError";
}

const HEADER_LENGTH_BYTES = 8;
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
// Header object → tensor entry or __metadata__ → shape / data_offsets list; nothing legitimate nests deeper.
const MAX_HEADER_DEPTH = 3;
// Longer integer literals are refused (as Python refuses huge ones); no real size or offset needs more digits.
const MAX_INTEGER_DIGITS = 20;
const FORMAT_NAME = "nnscape";
const READABLE_VERSIONS = ["1", "2"];
const V2_METADATA = ["layer_names", "layer_kinds"];
// Node indices are int32 in the file.
const MAX_NODES = 2 ** 31 - 1;
const MAX_LAYER_NAME_LENGTH = 200;
const LAYER_KIND = /^[a-z][a-z0-9_]{0,31}$/;
const COUNT = /^(0|[1-9][0-9]{0,18})$/;

type DType = "F32" | "I32" | "I64";
const DTYPE_BYTES: Record<DType, bigint> = { F32: 4n, I32: 4n, I64: 8n };
/** Every tensor of the format: its dtype and number of dimensions. */
const FIELDS = {
  layer_sizes: ["I64", 1],
  node_importance: ["F32", 2],
  node_position: ["F32", 2],
  edge_source: ["I32", 1],
  edge_target: ["I32", 1],
  edge_weight: ["F32", 1],
  edge_importance: ["F32", 1],
  edge_offsets: ["I64", 1],
  edge_points: ["F32", 2],
} as const satisfies Record<string, readonly [DType, number]>;
type Field = keyof typeof FIELDS;
const REQUIRED: readonly Field[] = [
  "layer_sizes",
  "node_importance",
  "node_position",
  "edge_source",
  "edge_target",
  "edge_weight",
  "edge_importance",
];
const PROCESSED: readonly Field[] = ["edge_offsets", "edge_points"];
const ENTRY_KEYS = ["data_offsets", "dtype", "shape"];

/** A parsed header value; integer literals become bigints so that sizes and offsets stay exact. */
type Json = null | boolean | number | bigint | string | Json[] | { [key: string]: Json };

interface TensorEntry {
  readonly shape: number[];
  /** Byte positions in the buffer (data section start already added). */
  readonly begin: number;
  readonly end: number;
}

// Typed-array views use the machine's byte order; the file is little-endian (as is every browser's machine).
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parse the bytes of a `.nnscape` file of either kind; throws `FormatError` naming the broken field. */
export function parse(buffer: ArrayBuffer, name = "file"): NetworkData {
  const fail = (message: string): never => {
    throw new FormatError(`${name}: ${message}`);
  };
  if (!LITTLE_ENDIAN) fail("this viewer reads .nnscape files on little-endian machines only");
  const size = buffer.byteLength;
  if (size < HEADER_LENGTH_BYTES) fail(`not a .nnscape file (header: only ${size} bytes; empty or truncated)`);
  const headerLength = new DataView(buffer).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - HEADER_LENGTH_BYTES))) {
    fail(
      `not a .nnscape file (header length ${headerLength} does not fit the file of ${size} bytes or the ` +
        `${MAX_HEADER_BYTES}-byte bound; wrong format or truncated)`,
    );
  }
  const bodyStart = HEADER_LENGTH_BYTES + Number(headerLength);
  const header = parseHeader(new Uint8Array(buffer, HEADER_LENGTH_BYTES, Number(headerLength)), fail);

  const meta = checkMetadata(header, fail);
  const version = meta["version"] as string;
  const kind = meta["kind"] as NetworkKind;
  const expected = kind === "processed" ? [...REQUIRED, ...PROCESSED] : REQUIRED;
  const tensorKeys = Object.keys(header).filter((key) => key !== "__metadata__");
  const unknown = tensorKeys.filter((key) => !(expected as readonly string[]).includes(key)).sort();
  if (unknown.length > 0) fail(`field ${unknown[0]} is not part of a ${kind} file`);
  const missing = expected.filter((key) => !tensorKeys.includes(key));
  if (missing.length > 0) fail(`field ${missing[0]} is missing (kind=${kind})`);
  const bodyLength = size - bodyStart;
  const spans = new Map(expected.map((key) => [key, checkEntry(header[key], key, fail)] as const));
  checkTiling(spans, BigInt(bodyLength), fail);
  const entry = (key: Field): TensorEntry => {
    const span = spans.get(key) as { shape: number[]; begin: bigint; end: bigint };
    return { shape: span.shape, begin: bodyStart + Number(span.begin), end: bodyStart + Number(span.end) };
  };

  const layerSizesEntry = entry("layer_sizes");
  const layerSizesWide = int64View(buffer, layerSizesEntry);
  const nLayers = layerSizesWide.length;
  const [layerNames, layerKinds] =
    version === "1" ? [defaultLayerNames(nLayers), defaultLayerKinds(nLayers)] : [
      stringList(meta, "layer_names", fail),
      stringList(meta, "layer_kinds", fail),
    ];
  const classNames = stringList(meta, "class_names", fail);

  // Same order of checks as Network.validate in Python.
  if (nLayers < 2) fail(`layer_sizes: need at least 2 layers, got ${nLayers}`);
  if (layerSizesWide.some((n) => n < 1n)) fail(`layer_sizes: every layer needs at least 1 node`);
  // Summed exactly: hostile int64 sizes could otherwise wrap or round to a small count.
  const totalNodes = layerSizesWide.reduce((a, b) => a + b, 0n);
  if (totalNodes > BigInt(MAX_NODES)) fail(`layer_sizes: ${totalNodes} nodes in all; at most ${MAX_NODES}`);
  const layerSizes = Array.from(layerSizesWide, Number);
  const nNodes = Number(totalNodes);
  for (const [key, labels] of [["layer_names", layerNames], ["layer_kinds", layerKinds]] as const) {
    if (labels.length !== nLayers) fail(`${key}: expected one entry per layer (${nLayers}), got ${labels.length}`);
  }
  layerNames.forEach((layerName, index) => {
    const length = [...layerName].length; // code points, as Python counts
    if (length < 1 || length > MAX_LAYER_NAME_LENGTH) {
      fail(`layer_names: layer ${index} needs a name of 1 to ${MAX_LAYER_NAME_LENGTH} characters, got ${length}`);
    }
  });
  layerKinds.forEach((layerKind, index) => {
    if (!LAYER_KIND.test(layerKind)) fail(`layer_kinds: layer ${index} has kind ${JSON.stringify(layerKind.slice(0, 40))}`);
  });
  const pruned = meta["pruned_edges"];
  if (pruned !== undefined && !COUNT.test(pruned)) {
    fail(`pruned_edges: expected a non-negative decimal integer, got ${JSON.stringify(pruned.slice(0, 40))}`);
  }
  const nClasses = classNames.length;
  if (nClasses < 2) fail(`class_names: need at least 2 classes, got ${nClasses}`);

  const expectShape = (key: Field, shape: number[]): TensorEntry => {
    const e = entry(key);
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      fail(`${key}: expected shape ${JSON.stringify(shape)}, got ${JSON.stringify(e.shape)}`);
    }
    return e;
  };
  const nodeImportance = float32View(buffer, expectShape("node_importance", [nNodes, nClasses]));
  expectUnitInterval(nodeImportance, "node_importance", fail);
  const nodePosition = float32View(buffer, expectShape("node_position", [nNodes, 3]));
  expectFinite(nodePosition, "node_position", fail);
  const edgeSourceEntry = entry("edge_source");
  const nEdges = edgeSourceEntry.shape[0] ?? 0;
  const edgeSource = int32View(buffer, edgeSourceEntry);
  const edgeTarget = int32View(buffer, expectShape("edge_target", [nEdges]));
  const edgeWeight = float32View(buffer, expectShape("edge_weight", [nEdges]));
  expectFinite(edgeWeight, "edge_weight", fail);
  const edgeImportance = float32View(buffer, expectShape("edge_importance", [nEdges]));
  expectUnitInterval(edgeImportance, "edge_importance", fail);
  // One fast pass over both index arrays; the slower ordered pass only finds which to report.
  let inRange = true;
  for (let e = 0; e < nEdges; e++) {
    if ((edgeSource[e] as number) >>> 0 >= nNodes || (edgeTarget[e] as number) >>> 0 >= nNodes) inRange = false;
  }
  if (!inRange) {
    for (const [key, index] of [["edge_source", edgeSource], ["edge_target", edgeTarget]] as const) {
      const node = index.find((n) => n < 0 || n >= nNodes);
      if (node !== undefined) fail(`${key}: node index ${node} out of range [0, ${nNodes})`);
    }
  }
  const layerOf = nodeLayers(layerSizes);
  let firstSkip = -1; // reported last, as in Python, and only for version 1 files
  for (let e = 0; e < nEdges; e++) {
    const from = layerOf[edgeSource[e] as number] as number;
    const to = layerOf[edgeTarget[e] as number] as number;
    if (to <= from) fail(`edge_target: edge ${e} runs from layer ${from} to layer ${to}; edges must run to a later layer`);
    if (to !== from + 1 && firstSkip < 0) firstSkip = e;
  }

  let edgeOffsets: Uint32Array | null = null;
  let edgePoints: Float32Array | null = null;
  if (kind === "processed") {
    const offsetsEntry = expectShape("edge_offsets", [nEdges + 1]);
    const pointsEntry = entry("edge_points");
    const nPoints = pointsEntry.shape[0] ?? 0;
    if (pointsEntry.shape[1] !== 3) fail(`edge_points: expected shape (S, 3), got ${JSON.stringify(pointsEntry.shape)}`);
    edgePoints = float32View(buffer, pointsEntry);
    expectFinite(edgePoints, "edge_points", fail);
    const wide = int64View(buffer, offsetsEntry);
    if (wide[0] !== 0n || wide[nEdges] !== BigInt(nPoints)) {
      fail(`edge_offsets: must start at 0 and end at the point count ${nPoints}`);
    }
    edgeOffsets = new Uint32Array(nEdges + 1);
    for (let e = 0; e < nEdges; e++) {
      if ((wide[e + 1] as bigint) - (wide[e] as bigint) < 2n) {
        fail(`edge_offsets: not increasing by at least 2 (a polyline needs both ends) at edge ${e}`);
      }
      edgeOffsets[e + 1] = Number(wide[e + 1]);
    }
  }
  if (version === "1" && firstSkip >= 0) {
    fail(`edge_target: edge ${firstSkip} skips a layer, which a version 1 file cannot hold`);
  }

  return {
    kind,
    version,
    layerSizes,
    layerNames,
    layerKinds,
    classNames,
    metadata: meta,
    nodeImportance,
    nodePosition,
    edgeSource,
    edgeTarget,
    edgeWeight,
    edgeImportance,
    edgeOffsets,
    edgePoints,
    nNodes,
    nEdges,
    nClasses,
    nSamples: edgePoints === null ? 0 : edgePoints.length / 3,
  };
}

/** `["input", "hidden 1", …, "output"]`: names of layers that were not named (version 1 files). */
export function defaultLayerNames(nLayers: number): string[] {
  const names = ["input", ...Array.from({ length: Math.max(0, nLayers - 2) }, (_, i) => `hidden ${i + 1}`), "output"];
  return names.slice(0, nLayers);
}

/** `["input", "linear", …]`: kinds of layers that were not given one (version 1 files are MLPs). */
export function defaultLayerKinds(nLayers: number): string[] {
  return Array.from({ length: nLayers }, (_, i) => (i === 0 ? "input" : "linear"));
}

/** The JSON header: strict UTF-8, standard JSON, no repeated key, at most three levels deep, an object. */
function parseHeader(bytes: Uint8Array, fail: (message: string) => never): Record<string, Json> {
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark, which is then refused as JSON (as Python refuses it).
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail("not a .nnscape file (header is not valid JSON)");
  }
  const value = new HeaderParser(text, fail).parse();
  if (!isRecord(value)) return fail("not a .nnscape file (header is not a JSON object)");
  return value;
}

/** A small recursive-descent JSON parser: bounded depth, repeated keys refused, integers as bigints. */
class HeaderParser {
  private position = 0;

  constructor(
    private readonly text: string,
    private readonly fail: (message: string) => never,
  ) {}

  parse(): Json {
    const value = this.value(0);
    this.skipSpace();
    if (this.position !== this.text.length) this.invalid();
    return value;
  }

  private invalid(): never {
    return this.fail("not a .nnscape file (header is not valid JSON)");
  }

  private skipSpace(): void {
    while (this.position < this.text.length && " \t\n\r".includes(this.text[this.position] as string)) {
      this.position++;
    }
  }

  private value(depth: number): Json {
    this.skipSpace();
    const c = this.text[this.position];
    if (c === "{" || c === "[") {
      if (depth + 1 > MAX_HEADER_DEPTH) this.fail(`header: nests deeper than ${MAX_HEADER_DEPTH} levels`);
      this.position++;
      return c === "{" ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === '"') return this.string();
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.position)) {
        this.position += word.length;
        return value;
      }
    }
    return this.number();
  }

  private object(depth: number): Json {
    const result = Object.create(null) as Record<string, Json>; // no prototype: "__proto__" is a plain key
    this.skipSpace();
    if (this.text[this.position] === "}") {
      this.position++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.position] !== '"') this.invalid();
      const key = this.string();
      this.skipSpace();
      if (this.text[this.position] !== ":") this.invalid();
      this.position++;
      const value = this.value(depth);
      if (key in result) this.fail(`header: key ${JSON.stringify(key.slice(0, 80))} appears twice in one object`);
      result[key] = value;
      this.skipSpace();
      const next = this.text[this.position++];
      if (next === "}") return result;
      if (next !== ",") this.invalid();
    }
  }

  private array(depth: number): Json {
    const result: Json[] = [];
    this.skipSpace();
    if (this.text[this.position] === "]") {
      this.position++;
      return result;
    }
    for (;;) {
      result.push(this.value(depth));
      this.skipSpace();
      const next = this.text[this.position++];
      if (next === "]") return result;
      if (next !== ",") this.invalid();
    }
  }

  private string(): string {
    const start = this.position;
    let i = start + 1;
    while (i < this.text.length && this.text[i] !== '"') i += this.text[i] === "\\" ? 2 : 1;
    if (i >= this.text.length) this.invalid();
    this.position = i + 1;
    try {
      return JSON.parse(this.text.slice(start, i + 1)) as string; // checks escapes and control characters
    } catch {
      return this.invalid();
    }
  }

  private number(): Json {
    const pattern = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    pattern.lastIndex = this.position;
    const match = pattern.exec(this.text);
    if (match === null) return this.invalid();
    this.position += match[0].length;
    if (match[2] !== undefined || match[3] !== undefined) return Number(match[0]);
    if ((match[1] as string).length > MAX_INTEGER_DIGITS) this.invalid();
    return BigInt(match[0]);
  }
}

function checkMetadata(header: Record<string, Json>, fail: (message: string) => never): Record<string, string> {
  const metadata = header["__metadata__"];
  if (!isRecord(metadata) || !Object.values(metadata).every((v) => typeof v === "string")) {
    return fail("not a .nnscape file (__metadata__: no string metadata; a plain safetensors file?)");
  }
  const meta = { ...(metadata as Record<string, string>) };
  const short = (value: string | undefined): string => JSON.stringify(value?.slice(0, 60));
  if (meta["format"] !== FORMAT_NAME) fail(`metadata format is ${short(meta["format"])}, expected "${FORMAT_NAME}"`);
  const version = meta["version"];
  if (version === undefined || !READABLE_VERSIONS.includes(version)) {
    fail(`format version ${short(version)} is not supported (this viewer reads versions ${READABLE_VERSIONS.join(", ")})`);
  }
  const kind = meta["kind"];
  if (kind !== "network" && kind !== "processed") fail(`metadata kind is ${short(kind)}, expected "network" or "processed"`);
  if (version === "1") {
    for (const key of V2_METADATA) if (key in meta) fail(`metadata ${key} is not part of a version 1 file`);
  }
  return meta;
}

function stringList(meta: Record<string, string>, key: string, fail: (message: string) => never): string[] {
  let values: unknown = null;
  try {
    values = JSON.parse(meta[key] ?? "");
  } catch {
    // reported below
  }
  if (!Array.isArray(values) || !values.every((v) => typeof v === "string")) {
    return fail(`metadata ${key} must be a JSON list of strings`);
  }
  return values as string[];
}

/** Check one tensor's header entry; return its shape and its byte span within the data section. */
function checkEntry(
  raw: Json | undefined,
  key: Field,
  fail: (message: string) => never,
): { shape: number[]; begin: bigint; end: bigint } {
  if (!isRecord(raw) || Object.keys(raw).sort().join() !== ENTRY_KEYS.join()) {
    return fail(`field ${key} has a malformed header entry (expected exactly dtype, shape, data_offsets)`);
  }
  const [dtype, ndim] = FIELDS[key];
  if (raw["dtype"] !== dtype) fail(`field ${key} has dtype ${describe(raw["dtype"])}, expected "${dtype}"`);
  const shape = raw["shape"];
  const offsets = raw["data_offsets"];
  if (!Array.isArray(shape) || shape.length !== ndim || !shape.every(isCount)) {
    return fail(`field ${key} has shape ${describe(shape)}, expected ${ndim} non-negative integer(s)`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    return fail(`field ${key} has malformed data_offsets ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [bigint, bigint];
  if (end < begin) fail(`field ${key} has data_offsets [${begin}, ${end}] that end before they begin`);
  // Exact integers: a shape whose product overflows int64 simply disagrees with the byte span.
  const bytes = (shape as bigint[]).reduce((a, b) => a * b, 1n) * DTYPE_BYTES[dtype];
  if (bytes !== end - begin) {
    fail(`field ${key} claims shape ${describe(shape)} (${bytes} bytes) but its data_offsets span ${end - begin} bytes`);
  }
  // Every span now lies within a file that fits in memory, so its numbers are exact as doubles.
  return { shape: (shape as bigint[]).map(Number), begin, end };
}

/** The tensors cover the data section exactly: no overlap, no gap, nothing after the last one. */
function checkTiling(
  spans: ReadonlyMap<Field, { begin: bigint; end: bigint }>,
  bodyLength: bigint,
  fail: (message: string) => never,
): void {
  const ordered = [...spans].sort(([ka, a], [kb, b]) =>
    a.begin !== b.begin ? (a.begin < b.begin ? -1 : 1) : a.end !== b.end ? (a.end < b.end ? -1 : 1) : ka < kb ? -1 : 1,
  );
  let position = 0n;
  for (const [key, { begin, end }] of ordered) {
    if (begin < position) fail(`field ${key} overlaps the tensor before it (starts at byte ${begin}, before ${position})`);
    if (begin > position) fail(`field ${key} starts at byte ${begin}, leaving a gap after byte ${position}`);
    if (end > bodyLength) fail(`field ${key} runs past the end of the file (truncated)`);
    position = end;
  }
  if (position !== bodyLength) fail(`data: ${bodyLength - position} bytes after the last tensor`);
}

function describe(value: Json | undefined): string {
  const text = JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? Number(v) : v)) ?? "undefined";
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}

function isRecord(value: unknown): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === "bigint" && value >= 0n;
}

/** (N,) layer index of every node. */
function nodeLayers(layerSizes: readonly number[]): Int32Array {
  const layers = new Int32Array(layerSizes.reduce((a, b) => a + b, 0));
  let start = 0;
  layerSizes.forEach((size, layer) => {
    layers.fill(layer, start, start + size);
    start += size;
  });
  return layers;
}

function expectUnitInterval(values: Float32Array, key: string, fail: (message: string) => never): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!(v >= 0 && v <= 1)) {
      expectFinite(values, key, fail); // a NaN or infinity anywhere is reported first, as in Python
      fail(`${key}: values must lie in [0, 1], got ${v} at flat index ${i}`);
    }
  }
}

function expectFinite(values: Float32Array, key: string, fail: (message: string) => never): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) fail(`${key}: non-finite value ${values[i]} at flat index ${i}`);
  }
}

// Views need the element size's alignment; an unaligned tensor (another writer) is copied instead.
function float32View(buffer: ArrayBuffer, e: TensorEntry): Float32Array {
  const count = (e.end - e.begin) / 4;
  return e.begin % 4 === 0 ? new Float32Array(buffer, e.begin, count) : new Float32Array(buffer.slice(e.begin, e.end));
}

function int32View(buffer: ArrayBuffer, e: TensorEntry): Int32Array {
  const count = (e.end - e.begin) / 4;
  return e.begin % 4 === 0 ? new Int32Array(buffer, e.begin, count) : new Int32Array(buffer.slice(e.begin, e.end));
}

function int64View(buffer: ArrayBuffer, e: TensorEntry): BigInt64Array {
  const count = (e.end - e.begin) / 8;
  return e.begin % 8 === 0
    ? new BigInt64Array(buffer, e.begin, count)
    : new BigInt64Array(buffer.slice(e.begin, e.end));
}
