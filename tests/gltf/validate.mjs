// Validates glTF files with the official Khronos validator; prints one JSON report per file (one per line).
// `node validate.mjs FILE...`
import { readFile } from "node:fs/promises";
import { validateBytes } from "gltf-validator";

for (const file of process.argv.slice(2)) {
  const report = await validateBytes(new Uint8Array(await readFile(file)), { maxIssues: 100 });
  console.log(JSON.stringify(report));
}
