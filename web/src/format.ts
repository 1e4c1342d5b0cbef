/**
 * Reading `.nnscape` files (safetensors) in the browser: a pure `parse(buffer)`, separate from fetching.
 *
 * Layout of the bytes: an 8-byte little-endian header length, a JSON header (tensor name → dtype, shape,
 * data_offsets; `__metadata__` → string map), then the raw little-endian tensors. Typed arrays are views
 * straight into the buffer whenever the offsets are aligned (the Python writer aligns them), copies otherwise.
 * Invariants are checked so that a bad file becomes one `FormatError` naming the field, never garbage on screen.
 */

export type NetworkKind = "network" | "processed";

/** A network as the viewer holds it: typed arrays, no object per node, edge or sample. */
export interface NetworkData {
  readonly kind: NetworkKind;
  /** Nodes per layer, input first. */
  readonly layerSizes: readonly number[];
  readonly classNames: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** (N, C) float32, row-major: importance of node n for class c at `n * C + c`. */
  readonly nodeImportance: Float32Array;
  /** (N, 3) float32: x, y in the layer slice, z along the layer axis. */
  readonly nodePosition: Float32Array;
  /** (E,) int32 global node indices. */
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
const FORMAT_NAME = "nnscape";
const FORMAT_VERSION = "1";

type DType = "F32" | "I32" | "I64";
const DTYPE_BYTES: Record<DType, number> = { F32: 4, I32: 4, I64: 8 };

interface TensorEntry {
  readonly dtype: DType;
  readonly shape: number[];
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
  if (buffer.byteLength < HEADER_LENGTH_BYTES) fail(`not a .nnscape file (only ${buffer.byteLength} bytes)`);
  const headerLength = Number(new DataView(buffer).getBigUint64(0, true));
  if (headerLength > Math.min(MAX_HEADER_BYTES, buffer.byteLength - HEADER_LENGTH_BYTES)) {
    fail(`not a .nnscape file (header length ${headerLength} does not fit ${buffer.byteLength} bytes)`);
  }
  const bodyStart = HEADER_LENGTH_BYTES + headerLength;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, HEADER_LENGTH_BYTES, headerLength)));
  } catch {
    fail("not a .nnscape file (header is not valid JSON)");
  }
  if (!isRecord(header)) return fail("not a .nnscape file (header is not a JSON object)");

  const metadata = header["__metadata__"];
  if (!isRecord(metadata) || !Object.values(metadata).every((v) => typeof v === "string")) {
    return fail("not a .nnscape file (no string metadata)");
  }
  const meta = metadata as Record<string, string>;
  if (meta["format"] !== FORMAT_NAME) fail(`metadata format is ${JSON.stringify(meta["format"])}, expected "nnscape"`);
  if (meta["version"] !== FORMAT_VERSION) fail(`format version ${JSON.stringify(meta["version"])} is not supported`);
  const kind = meta["kind"];
  if (kind !== "network" && kind !== "processed") return fail(`metadata kind ${JSON.stringify(kind)} is unknown`);
  let classNames: unknown;
  try {
    classNames = JSON.parse(meta["class_names"] ?? "");
  } catch {
    fail("metadata class_names must be a JSON list of strings");
  }
  if (!Array.isArray(classNames) || !classNames.every((c) => typeof c === "string")) {
    return fail("metadata class_names must be a JSON list of strings");
  }

  const entry = (key: string, dtype: DType, ndim: number): TensorEntry => {
    const raw = header[key];
    if (!isRecord(raw)) return fail(`field ${key} is missing (kind=${kind})`);
    const shape = raw["shape"];
    const offsets = raw["data_offsets"];
    if (raw["dtype"] !== dtype) fail(`field ${key} has dtype ${JSON.stringify(raw["dtype"])}, expected ${dtype}`);
    if (!Array.isArray(shape) || shape.length !== ndim || !shape.every(isCount)) {
      return fail(`field ${key} has shape ${JSON.stringify(shape)}, expected ${ndim} dimension(s)`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      return fail(`field ${key} has malformed data_offsets`);
    }
    const [begin, end] = [bodyStart + (offsets[0] as number), bodyStart + (offsets[1] as number)];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * DTYPE_BYTES[dtype]) fail(`field ${key} has data_offsets that disagree with its shape`);
    if (end > buffer.byteLength) fail(`field ${key} runs past the end of the file (truncated)`);
    return { dtype, shape: shape as number[], begin, end };
  };

  const layerSizesEntry = entry("layer_sizes", "I64", 1);
  const layerSizes = Array.from(int64View(buffer, layerSizesEntry), Number);
  if (layerSizes.length < 2 || layerSizes.some((n) => n < 1)) fail(`layer_sizes ${JSON.stringify(layerSizes)} invalid`);
  const nNodes = layerSizes.reduce((a, b) => a + b, 0);
  const nClasses = classNames.length;
  if (nClasses < 2) fail(`class_names: need at least 2 classes, got ${nClasses}`);

  const expectShape = (key: string, e: TensorEntry, shape: number[]): void => {
    if (e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i])) {
      fail(`field ${key} has shape ${JSON.stringify(e.shape)}, expected ${JSON.stringify(shape)}`);
    }
  };
  const float32 = (key: string, shape: number[]): Float32Array => {
    const e = entry(key, "F32", shape.length);
    expectShape(key, e, shape);
    return float32View(buffer, e);
  };
  const int32 = (key: string, shape: number[]): Int32Array => {
    const e = entry(key, "I32", shape.length);
    expectShape(key, e, shape);
    return int32View(buffer, e);
  };

  const nodeImportance = float32("node_importance", [nNodes, nClasses]);
  const nodePosition = float32("node_position", [nNodes, 3]);
  const edgeSourceEntry = entry("edge_source", "I32", 1);
  const nEdges = edgeSourceEntry.shape[0] ?? 0;
  const edgeSource = int32View(buffer, edgeSourceEntry);
  const edgeTarget = int32("edge_target", [nEdges]);
  const edgeWeight = float32("edge_weight", [nEdges]);
  const edgeImportance = float32("edge_importance", [nEdges]);
  const layerOf = nodeLayers(layerSizes);
  for (let e = 0; e < nEdges; e++) {
    const s = edgeSource[e] as number;
    const t = edgeTarget[e] as number;
    if (s < 0 || s >= nNodes || t < 0 || t >= nNodes) fail(`edge ${e} refers to a node outside [0, ${nNodes})`);
    if ((layerOf[t] as number) !== (layerOf[s] as number) + 1) fail(`edge ${e} does not join consecutive layers`);
  }
  expectFinite(nodePosition, "node_position", fail);
  expectUnitInterval(nodeImportance, "node_importance", fail);
  expectUnitInterval(edgeImportance, "edge_importance", fail);

  let edgeOffsets: Uint32Array | null = null;
  let edgePoints: Float32Array | null = null;
  if (kind === "processed") {
    const offsetsEntry = entry("edge_offsets", "I64", 1);
    expectShape("edge_offsets", offsetsEntry, [nEdges + 1]);
    const pointsEntry = entry("edge_points", "F32", 2);
    const nPoints = pointsEntry.shape[0] ?? 0;
    expectShape("edge_points", pointsEntry, [nPoints, 3]);
    edgePoints = float32View(buffer, pointsEntry);
    expectFinite(edgePoints, "edge_points", fail);
    const wide = int64View(buffer, offsetsEntry);
    edgeOffsets = new Uint32Array(nEdges + 1);
    let previous = -2;
    for (let e = 0; e <= nEdges; e++) {
      const offset = Number(wide[e]);
      if (e === 0 ? offset !== 0 : offset < previous + 2) {
        fail(`edge_offsets not increasing by at least 2 at edge ${e - 1}`);
      }
      edgeOffsets[e] = offset;
      previous = offset;
    }
    if (previous !== nPoints) fail(`edge_offsets ends at ${previous}, expected the point count ${nPoints}`);
  }

  return {
    kind,
    layerSizes,
    classNames: classNames as string[],
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** (N,) layer index of every node. */
function nodeLayers(layerSizes: readonly number[]): Uint16Array {
  const layers = new Uint16Array(layerSizes.reduce((a, b) => a + b, 0));
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
    if (!(v >= 0 && v <= 1)) fail(`field ${key} has ${v} at flat index ${i}; values must lie in [0, 1]`);
  }
}

function expectFinite(values: Float32Array, key: string, fail: (message: string) => never): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) fail(`field ${key} has a non-finite value at flat index ${i}`);
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
