/** The server's HTTP routes (docs/design.md, "Command line, Python API, server and viewer"), typed; errors carry the server's one-line detail. */

import type { Setting, SettingValue } from "./state.js";

export interface NetworkEntry {
  readonly name: string;
  readonly kind?: "network" | "processed";
  readonly layer_sizes?: readonly number[];
  readonly classes?: number;
  readonly class_names?: readonly string[];
  readonly edges?: number;
  readonly samples?: number;
  readonly size_bytes?: number;
  readonly modified?: number;
  readonly broken?: boolean;
  readonly error?: string;
}

/** One server-sent progress event of a processing job. */
export interface JobEvent {
  readonly state: string;
  readonly phase?: string;
  readonly step?: number;
  readonly total?: number;
  readonly values?: Readonly<Record<string, unknown>>;
  readonly output?: string;
  readonly error?: string;
}

/** Job states during which more events follow; any other state is final. */
export const LIVE_JOB_STATES: readonly string[] = ["queued", "pending", "running"];

export type ConfigName = "processing" | "rendering";

export class ApiError extends Error {
  override readonly name = "ApiError";
}

async function request(path: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(path, init);
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body: unknown = await response.json();
      const message = (body as { detail?: unknown }).detail;
      if (typeof message === "string") detail = message;
      else if (message !== undefined) detail = JSON.stringify(message);
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(`${init?.method ?? "GET"} ${path}: ${detail}`);
  }
  return response;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  return (await (await request(path, init)).json()) as T;
}

function send(method: string, body: unknown): RequestInit {
  return { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

const quote = encodeURIComponent;

export const api = {
  listNetworks: (): Promise<NetworkEntry[]> => json("/api/networks"),
  networkBytes: async (name: string): Promise<ArrayBuffer> =>
    (await request(`/api/networks/${quote(name)}`)).arrayBuffer(),
  generate: (body: { layers: number[]; classes?: number; seed?: number; name?: string }): Promise<{ name: string }> =>
    json("/api/generate", send("POST", body)),
  startJob: (network: string, config: Record<string, SettingValue>): Promise<{ id: string }> =>
    json("/api/jobs", send("POST", { network, config })),
  stopJob: async (id: string): Promise<void> => {
    await request(`/api/jobs/${quote(id)}`, { method: "DELETE" });
  },
  jobEventsUrl: (id: string): string => `/api/jobs/${quote(id)}/events`,
  config: (name: ConfigName): Promise<Record<string, unknown>> => json(`/api/config/${name}`),
  saveConfig: (name: ConfigName, values: Record<string, unknown>): Promise<unknown> =>
    json(`/api/config/${name}`, send("PUT", values)),
  schema: (name: ConfigName): Promise<Setting[]> => json(`/api/config/${name}/schema`),
  initial: (): Promise<{ network: string | null }> => json("/api/initial"),
};
