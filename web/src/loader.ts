/**
 * Loading a network into the state: from the server's folder, a local file (picker, drag-and-drop) or bytes
 * a page or widget carries.
 */

import { api } from "./api.js";
import { parse } from "./format.js";
import type { ViewerState } from "./state.js";
import type { Status } from "./ui/status.js";
import type { Viewer } from "./view/Viewer.js";

/** Milliseconds spent in each step of the last load (for the benchmark). */
export interface LoadTimings {
  /** Reading the bytes (download or local file). */
  read: number;
  /** `parse`: header, views, invariants. */
  parse: number;
  /** Everything derived for drawing (samples, colours, GPU buffers): the state change's listeners. */
  prepare: number;
  /** From then to the finished picture (upload and draw, over several frames for a large network). */
  draw: number;
  /** Page time (milliseconds since navigation) of the first frame showing the network, perhaps in part. */
  firstFrame: number;
  /** Page time of the finished picture. */
  finished: number;
}

export class NetworkLoader {
  /** True once a network is shown and its picture finished. */
  loaded = false;
  readonly timings: LoadTimings = { read: 0, parse: 0, prepare: 0, draw: 0, firstFrame: 0, finished: 0 };

  constructor(
    private readonly state: ViewerState,
    private readonly viewer: Viewer,
    private readonly status: Status,
  ) {}

  fromServer(name: string): Promise<void> {
    return this.fromBytes(name, api.networkBytes(name), true);
  }

  fromFile(file: File): Promise<void> {
    return this.fromBytes(file.name, file.arrayBuffer(), false);
  }

  /** Show the file `name` once `reading` gives its bytes; `onServer`: it lives in the server's folder. */
  async fromBytes(name: string, reading: Promise<ArrayBuffer>, onServer: boolean): Promise<void> {
    await this.guarded(name, async () => this.show(await this.timed(reading), name, onServer));
  }

  private async timed(reading: Promise<ArrayBuffer>): Promise<ArrayBuffer> {
    const start = performance.now();
    const bytes = await reading;
    this.timings.read = performance.now() - start;
    return bytes;
  }

  private async guarded(name: string, load: () => Promise<void>): Promise<void> {
    this.loaded = false;
    this.status.info(`Loading ${name} …`, "loading");
    try {
      await load();
    } catch (error) {
      this.status.error(error);
    }
  }

  private show(bytes: ArrayBuffer, name: string, onServer: boolean): void {
    const start = performance.now();
    const data = parse(bytes, name);
    const parsed = performance.now();
    this.state.setNetwork({ data, name, bytes, onServer });
    const prepared = performance.now();
    this.timings.parse = parsed - start;
    this.timings.prepare = prepared - parsed;
    const layers = data.layerSizes.join("-");
    this.viewer.afterNextFrame(() => {
      this.timings.firstFrame = performance.now();
    });
    this.viewer.afterNextPicture(() => {
      this.timings.finished = performance.now();
      this.timings.draw = this.timings.finished - prepared;
      this.loaded = true;
      this.status.info(`${name}: ${data.kind} ${layers}, ${data.nEdges.toLocaleString()} edges`, "ready");
    });
  }
}
