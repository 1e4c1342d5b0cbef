/**
 * The viewer page. Served by nnscape, it shows the network named in the address (`?network=NAME`), else the
 * server's initial one, else the newest processed file; a standalone export carries its network and settings
 * in the page itself and runs without a server. `?test=1` stops the orbit and exposes `window.nnscapeViewer`
 * for browser tests (always exposed in an export, which `nnscape export --out X.png` drives).
 */

import { startViewer } from "./app.js";
import { embeddedSource, serverSource } from "./source.js";
import { Status } from "./ui/status.js";

async function main(): Promise<void> {
  const params = new URLSearchParams(window.location.search);
  const embedded = embeddedSource(document);
  const testMode = params.get("test") === "1";
  const mount = {
    viewport: document.getElementById("viewport") as HTMLElement,
    message: document.getElementById("message") as HTMLElement,
    stateElement: document.body,
  };
  const running = await startViewer(mount, embedded ?? serverSource(params.get("network")), testMode);
  window.nnscapeViewer = running.hooks;
}

main().catch((error: unknown) => {
  const message = document.getElementById("message");
  if (message !== null) new Status(message).error(error);
});
