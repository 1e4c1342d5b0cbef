// Bundles the viewer (TypeScript, three.js, lil-gui, GLSL as text) into the Python package's static folder,
// so that the server ships it and nothing is fetched at run time: viewer.js for the page (served or exported
// standalone), widget.js for the notebook widget (an anywidget module). `node build.mjs [--watch] [--outdir DIR]`.
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outdirFlag = args.indexOf("--outdir");
const outdir = outdirFlag >= 0 ? resolve(args[outdirFlag + 1]) : resolve(here, "../src/nnscape/server/static");

const options = {
  entryPoints: { viewer: resolve(here, "src/main.ts"), widget: resolve(here, "src/widget.ts") },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  outdir,
  loader: { ".vert": "text", ".frag": "text", ".glsl": "text" },
  logLevel: "info",
};

await mkdir(outdir, { recursive: true });
await copyFile(resolve(here, "index.html"), resolve(outdir, "index.html"));
if (args.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}
