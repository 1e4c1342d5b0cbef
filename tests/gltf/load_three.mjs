// Reads a .glb with three.js's GLTFLoader (the viewer's copy of three in web/node_modules) and prints, per
// object with geometry: its type, name, attribute names, vertex count and index count. `node load_three.mjs FILE`
import { readFileSync } from "node:fs";
import { GLTFLoader } from "../../web/node_modules/three/examples/jsm/loaders/GLTFLoader.js";

const data = readFileSync(process.argv[2]);
const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
new GLTFLoader().parse(
  buffer,
  "",
  (gltf) => {
    const objects = [];
    gltf.scene.traverse((object) => {
      if (object.geometry === undefined) return;
      const { attributes, index } = object.geometry;
      objects.push({
        type: object.type,
        name: object.name,
        attributes: Object.keys(attributes),
        vertices: attributes.position.count,
        indices: index?.count ?? null,
      });
    });
    console.log(JSON.stringify(objects));
  },
  (error) => {
    console.error(String(error));
    process.exit(1);
  },
);
