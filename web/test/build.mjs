// Compiles the Node tests (test/*.test.ts) with esbuild into .test-build/, where `node --test` runs them.
// Type-checking stays with `tsc` over src/; the tests only need their types stripped.
import { readdir, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../.test-build");
const tests = (await readdir(here)).filter((name) => name.endsWith(".test.ts"));
await rm(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: tests.map((name) => resolve(here, name)),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node18",
  outdir,
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
});
