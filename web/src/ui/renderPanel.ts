/**
 * Render panel: node and edge modes and the six shader settings of each, bound to the state's render
 * settings (changes apply live); save them to the server as configs/rendering.json (when there is a server),
 * or reset to defaults.
 */

import type { GUI } from "lil-gui";
import { api } from "../api.js";
import { nest, type Setting, type ViewerState } from "../state.js";
import { addSetting, defaults } from "./settings.js";
import type { Status } from "./status.js";

export class RenderPanel {
  private readonly folder: GUI;

  constructor(
    gui: GUI,
    schema: readonly Setting[],
    private readonly state: ViewerState,
    private readonly status: Status,
    server: boolean,
  ) {
    this.folder = gui.addFolder("Render");
    const groups = new Map<string, GUI>();
    for (const setting of schema) {
      const [group] = setting.key.split(".", 1) as [string];
      let folder = this.folder;
      if (setting.key.includes(".")) {
        const title = group === "nodes" ? "Node shading" : "Edge shading";
        folder = groups.get(group) ?? this.folder.addFolder(title).close();
        groups.set(group, folder);
      }
      addSetting(folder, state.render, setting, (key, value) => state.setRender(key, value));
    }
    if (server) this.folder.add({ save: () => void this.save() }, "save").name("Save render settings (server)");
    this.folder.add({ reset: () => state.setRenderAll(defaults(schema)) }, "reset").name("Reset to defaults");
    // Changes from elsewhere (keys, test hooks, reset) show in the controllers.
    state.subscribe((change) => {
      if (change === "render") for (const controller of this.folder.controllersRecursive()) controller.updateDisplay();
    });
  }

  private async save(): Promise<void> {
    try {
      await api.saveConfig("rendering", nest(this.state.render));
      this.status.info("Render settings saved to the server (configs/rendering.json).");
    } catch (error) {
      this.status.error(error);
    }
  }
}
