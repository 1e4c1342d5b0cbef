/** Loading a network into the state: from the server's folder, or from a local file (picker, drag-and-drop). */

import { api } from "./api.js";
import { parse } from "./format.js";
import type { ViewerState } from "./state.js";
import type { Status } from "./ui/status.js";
import type { Viewer } from "./view/Viewer.js";

export class NetworkLoader {
  /** True once a network is shown and its first frame drawn. */
  loaded = false;

  constructor(
    private readonly state: ViewerState,
    private readonly viewer: Viewer,
    private readonly status: Status,
  ) {}

  async fromServer(name: string): Promise<void> {
    await this.guarded(name, async () => this.show(await api.networkBytes(name), name, true));
  }

  async fromFile(file: File): Promise<void> {
    await this.guarded(file.name, async () => this.show(await file.arrayBuffer(), file.name, false));
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
    const data = parse(bytes, name);
    this.state.setNetwork({ data, name, bytes, onServer });
    const layers = data.layerSizes.join("-");
    this.viewer.afterNextFrame(() => {
      this.loaded = true;
      this.status.info(`${name}: ${data.kind} ${layers}, ${data.nEdges.toLocaleString()} edges`, "ready");
    });
  }
}
