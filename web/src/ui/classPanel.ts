/** Class visibility: Independent, All, and one button per class (named, with its palette colour). */

import type { GUI } from "lil-gui";
import type { ClassView } from "../colours.js";
import { cssColour } from "../palette.js";
import type { ViewerState } from "../state.js";

const SWATCH = "8px solid";

export class ClassPanel {
  private readonly folder: GUI;

  constructor(
    gui: GUI,
    private readonly state: ViewerState,
  ) {
    this.folder = gui.addFolder("Class visibility");
    state.subscribe((change) => {
      if (change === "network") this.build();
      if (change === "network" || change === "classView") this.highlight();
    });
    this.build();
  }

  private build(): void {
    for (const controller of [...this.folder.controllers]) controller.destroy();
    const add = (label: string, view: ClassView): void => {
      const controller = this.folder.add({ show: () => this.state.setClassView(view) }, "show").name(label);
      controller.domElement.dataset["view"] = String(view);
      if (typeof view === "number") controller.domElement.style.borderLeft = `${SWATCH} ${cssColour(view)}`;
    };
    add("Independent", "independent");
    add("All", "all");
    this.state.network?.data.classNames.forEach((name, k) => add(`Class ${k}: ${name}`, k));
  }

  private highlight(): void {
    for (const controller of this.folder.controllers) {
      const selected = controller.domElement.dataset["view"] === String(this.state.classView);
      controller.domElement.style.fontWeight = selected ? "bold" : "";
    }
  }
}
