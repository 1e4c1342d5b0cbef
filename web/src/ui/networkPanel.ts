/**
 * Network panel: a local file (picker, drag-and-drop) and saving the shown file; with a server also its
 * folder's files (load, refresh) and generating a random network there from an editable layer list.
 */

import type { Controller, GUI } from "lil-gui";
import { api, type NetworkEntry } from "../api.js";
import type { NetworkLoader } from "../loader.js";
import type { ViewerState } from "../state.js";
import type { Status } from "./status.js";

const DEFAULT_LAYERS = [784, 81, 49, 10];
const NEW_LAYER_SIZE = 16;
const MIN_LAYERS = 2;
const FILE_EXTENSION = ".nnscape";

function describe(entry: NetworkEntry): string {
  if (entry.broken === true) return `${entry.name} (broken: ${entry.error ?? "unreadable"})`;
  const layers = entry.layer_sizes?.join("-") ?? "?";
  return `${entry.name} (${entry.kind === "processed" ? "processed" : "network"} ${layers})`;
}

export class NetworkPanel {
  entries: NetworkEntry[] = [];
  private readonly folder: GUI;
  private readonly selection = { file: "" };
  private fileController: Controller | null = null;
  private layersFolder: GUI | null = null;
  private readonly generator = { layers: [...DEFAULT_LAYERS], classes: 0, seed: 0, name: "" };
  private readonly picker: HTMLInputElement;

  constructor(
    gui: GUI,
    private readonly state: ViewerState,
    private readonly loader: NetworkLoader,
    private readonly status: Status,
    server: boolean,
  ) {
    this.folder = gui.addFolder("Network");
    if (server) {
      this.fileController = this.folder.add(this.selection, "file", { "(none)": "" }).name("file");
      this.folder.add({ load: () => void this.loadSelected() }, "load").name("Load selected");
      this.folder.add({ refresh: () => void this.refresh() }, "refresh").name("Refresh list");
    }
    this.picker = document.createElement("input");
    this.picker.type = "file";
    this.picker.accept = FILE_EXTENSION;
    this.picker.style.display = "none";
    this.picker.addEventListener("change", () => {
      const file = this.picker.files?.[0];
      if (file !== undefined) void this.loader.fromFile(file);
      this.picker.value = "";
    });
    this.folder.domElement.appendChild(this.picker); // goes with the panel (a widget's panel is disposed)
    this.folder.add({ open: () => this.picker.click() }, "open").name("Open local file … (or drop one)");
    this.folder.add({ save: () => this.save() }, "save").name("Save shown file");
    if (server) this.addGenerator();
  }

  private addGenerator(): void {
    const generate = this.folder.addFolder("Generate random network");
    this.layersFolder = generate.addFolder("Layers");
    generate.add({ add: () => this.changeLayers(+1) }, "add").name("Add layer");
    generate.add({ remove: () => this.changeLayers(-1) }, "remove").name("Remove last layer");
    generate.add(this.generator, "classes", 0, 1000, 1).name("classes (0: output size)");
    generate.add(this.generator, "seed", 0, 2 ** 31 - 1, 1);
    generate.add(this.generator, "name").name("file name (optional)");
    generate.add({ generate: () => void this.generate() }, "generate").name("Generate");
    generate.close();
    this.buildLayerControllers();
  }

  /** Fetch the folder's list and offer it; returns the entries. */
  async refresh(): Promise<NetworkEntry[]> {
    try {
      this.entries = await api.listNetworks();
    } catch (error) {
      this.status.error(error);
      return this.entries;
    }
    const options: Record<string, string> = {};
    for (const entry of this.entries) options[describe(entry)] = entry.name;
    const current = this.state.network?.name;
    if (current !== undefined && this.entries.some((e) => e.name === current)) this.selection.file = current;
    this.fileController = this.fileController?.options(options).name("file") ?? null;
    return this.entries;
  }

  /** Show `name` as the selected file (after loading it from elsewhere). */
  select(name: string): void {
    this.selection.file = name;
    this.fileController?.updateDisplay();
  }

  private async loadSelected(): Promise<void> {
    if (this.selection.file === "") {
      this.status.info("No file selected: generate one, or open a local file.");
      return;
    }
    await this.loader.fromServer(this.selection.file);
  }

  private save(): void {
    const network = this.state.network;
    if (network === null) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([network.bytes], { type: "application/octet-stream" }));
    link.download = network.name.endsWith(FILE_EXTENSION) ? network.name : `${network.name}${FILE_EXTENSION}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
  }

  private changeLayers(delta: number): void {
    const layers = this.generator.layers;
    if (delta > 0) layers.splice(layers.length - 1, 0, NEW_LAYER_SIZE);
    else if (layers.length > MIN_LAYERS) layers.splice(layers.length - 2, 1);
    this.buildLayerControllers();
  }

  private buildLayerControllers(): void {
    const folder = this.layersFolder;
    if (folder === null) return;
    for (const controller of [...folder.controllers]) controller.destroy();
    this.generator.layers.forEach((_, i) => {
      folder.add(this.generator.layers, i, 1, 4096, 1).name(`layer ${i + 1}`);
    });
  }

  private async generate(): Promise<void> {
    const { layers, classes, seed, name } = this.generator;
    try {
      this.status.info(`Generating ${layers.join("-")} …`, "loading");
      const body: { layers: number[]; seed: number; classes?: number; name?: string } = { layers: [...layers], seed };
      if (classes > 0) body.classes = classes;
      if (name.trim() !== "") body.name = name.trim();
      const created = await api.generate(body);
      await this.refresh();
      this.select(created.name);
      await this.loader.fromServer(created.name);
    } catch (error) {
      this.status.error(error);
    }
  }
}
