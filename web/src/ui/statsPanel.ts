/** Statistics: edges, samples, pruned edges (from the file's metadata) and frames per second. */

import type { GUI } from "lil-gui";
import type { ViewerState } from "../state.js";
import type { Viewer } from "../view/Viewer.js";

const REFRESH_MS = 500;

export class StatsPanel {
  private readonly values = { edges: 0, samples: 0, pruned: 0, fps: 0 };
  private readonly timer: number;

  constructor(
    gui: GUI,
    private readonly state: ViewerState,
    private readonly viewer: Viewer,
  ) {
    const folder = gui.addFolder("Statistics");
    folder.add(this.values, "edges").disable();
    folder.add(this.values, "samples").disable();
    folder.add(this.values, "pruned").name("pruned edges").disable();
    folder.add(this.values, "fps").name("FPS").disable();
    this.timer = window.setInterval(() => {
      this.update();
      for (const controller of folder.controllers) controller.updateDisplay();
    }, REFRESH_MS);
  }

  private update(): void {
    const data = this.state.network?.data;
    this.values.edges = data?.nEdges ?? 0;
    // Unprocessed files have no samples of their own; the count drawn is the straight edges' sampling.
    this.values.samples = data?.kind === "processed" ? data.nSamples : this.viewer.networkView.edgeSampleCount;
    this.values.pruned = Number(data?.metadata["pruned_edges"] ?? 0);
    this.values.fps = Math.round(this.viewer.fps * 10) / 10;
  }

  dispose(): void {
    window.clearInterval(this.timer);
  }
}
