/**
 * Processing panel: the nine processing settings (from the server's schema), Process / Stop, and live
 * progress from the job's server-sent events. A finished job's file is listed and shown.
 * `document.body.dataset.job` follows the job's state for scripts and tests.
 */

import type { Controller, GUI } from "lil-gui";
import { api, type JobEvent, LIVE_JOB_STATES } from "../api.js";
import type { NetworkLoader } from "../loader.js";
import type { Setting, SettingValue, ViewerState } from "../state.js";
import type { NetworkPanel } from "./networkPanel.js";
import { addSetting } from "./settings.js";
import type { Status } from "./status.js";

export class ProcessingPanel {
  readonly values: Record<string, SettingValue>;
  private readonly progress = { text: "idle" };
  private readonly progressController: Controller;
  private jobId: string | null = null;
  private events: EventSource | null = null;

  constructor(
    gui: GUI,
    schema: readonly Setting[],
    values: Record<string, SettingValue>,
    private readonly state: ViewerState,
    private readonly networks: NetworkPanel,
    private readonly loader: NetworkLoader,
    private readonly status: Status,
  ) {
    this.values = values;
    const folder = gui.addFolder("Processing");
    for (const setting of schema) addSetting(folder, this.values, setting, () => undefined);
    folder.add({ process: () => void this.start() }, "process").name("Process shown network");
    folder.add({ stop: () => void this.stop() }, "stop").name("Stop");
    folder.add({ save: () => void this.save() }, "save").name("Save processing settings (server)");
    this.progressController = folder.add(this.progress, "text").name("progress").disable();
    folder.close();
  }

  private async start(): Promise<void> {
    const network = this.state.network;
    if (network === null || !network.onServer) {
      this.status.info("Processing works on files in the server's folder: load or generate one there first.");
      return;
    }
    if (this.jobId !== null) await this.stop();
    try {
      const { id } = await api.startJob(network.name, { ...this.values });
      this.jobId = id;
      this.show({ state: "queued" });
      this.events = new EventSource(api.jobEventsUrl(id));
      this.events.onmessage = (message: MessageEvent<string>) => this.onEvent(JSON.parse(message.data) as JobEvent);
      this.events.onerror = () => {
        // The stream ends after the final event; a break before it is a lost job.
        if (this.jobId === id) this.finish({ state: "failed", error: "lost the connection to the job" });
      };
    } catch (error) {
      this.status.error(error);
    }
  }

  private async save(): Promise<void> {
    try {
      await api.saveConfig("processing", { ...this.values });
      this.status.info("Processing settings saved to the server (configs/processing.json).");
    } catch (error) {
      this.status.error(error);
    }
  }

  private async stop(): Promise<void> {
    const id = this.jobId;
    if (id === null) return;
    try {
      await api.stopJob(id);
    } catch (error) {
      this.status.error(error);
    }
  }

  private onEvent(event: JobEvent): void {
    if (LIVE_JOB_STATES.includes(event.state)) this.show(event);
    else this.finish(event);
  }

  private show(event: JobEvent): void {
    const steps = event.total !== undefined && event.total > 0 ? ` ${event.step ?? 0}/${event.total}` : "";
    this.progress.text = `${event.state}${event.phase !== undefined ? ` · ${event.phase}` : ""}${steps}`;
    this.progressController.updateDisplay();
    document.body.dataset["job"] = event.state;
  }

  private finish(event: JobEvent): void {
    this.events?.close();
    this.events = null;
    this.jobId = null;
    this.show(event);
    if (event.output !== undefined) {
      const output = event.output;
      void this.networks.refresh().then(() => {
        this.networks.select(output);
        return this.loader.fromServer(output);
      });
    } else if (event.error !== undefined) {
      this.status.error(new Error(`processing ${event.state}: ${event.error}`));
    } else {
      this.status.info(`processing ${event.state}`);
    }
  }
}
