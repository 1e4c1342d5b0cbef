/**
 * The three shader materials (ray-cast impostors, lines, points) and the uniforms they share per element
 * group. Settings are uniforms (changed live, no recompile); modes are defines (one program per mode).
 */

import {
  CustomBlending,
  GLSL3,
  MaxEquation,
  MinEquation,
  NormalBlending,
  OneFactor,
  ShaderMaterial,
  Vector2,
} from "three";
import impostorFragment from "./impostor.frag";
import impostorVertex from "./impostor.vert";
import lineFragment from "./line.frag";
import lineVertex from "./line.vert";
import opacityChunk from "./opacity.glsl";
import pointFragment from "./point.frag";
import pointVertex from "./point.vert";

/** The six shader settings of one element group (nodes or edges), as the render config names them. */
export const SHADER_SETTINGS = [
  "size",
  "base_opacity",
  "importance_opacity",
  "depth_opacity",
  "depth_exponent",
  "importance_threshold",
] as const;

/** Uniforms shared by every material of one element group; the materials hold these very objects. */
export class Shading {
  readonly uniforms = {
    size: { value: 0 },
    baseOpacity: { value: 0 },
    importanceOpacity: { value: 1 },
    depthOpacity: { value: 0 },
    depthExponent: { value: 1 },
    importanceThreshold: { value: 0 },
    depthRange: { value: new Vector2(0, 1) },
    pointPixels: { value: 1 },
  };

  /** Copy `prefix.size`, `prefix.base_opacity`, … from the render settings. */
  apply(setting: (key: string) => number, prefix: string): void {
    const u = this.uniforms;
    u.size.value = setting(`${prefix}.size`);
    u.baseOpacity.value = setting(`${prefix}.base_opacity`);
    u.importanceOpacity.value = setting(`${prefix}.importance_opacity`);
    u.depthOpacity.value = setting(`${prefix}.depth_opacity`);
    u.depthExponent.value = setting(`${prefix}.depth_exponent`);
    u.importanceThreshold.value = setting(`${prefix}.importance_threshold`);
  }
}

/** MIN for colour and MAX for alpha over white, no depth test: order-independent transparency. */
function makeTransparent(material: ShaderMaterial): ShaderMaterial {
  material.transparent = true;
  material.blending = CustomBlending;
  material.blendEquation = MinEquation;
  material.blendEquationAlpha = MaxEquation;
  material.blendSrc = OneFactor;
  material.blendDst = OneFactor;
  material.depthTest = false;
  material.depthWrite = false;
  return material;
}

function material(shading: Shading, vertex: string, fragment: string, defines: Record<string, string>): ShaderMaterial {
  return new ShaderMaterial({
    glslVersion: GLSL3,
    uniforms: shading.uniforms,
    vertexShader: `${opacityChunk}\n${vertex}`,
    fragmentShader: `${opacityChunk}\n${fragment}`,
    defines,
  });
}

/** Spheres (one per instance) or, with `segment`, ellipsoids along polyline segments. */
export function impostorMaterial(
  shading: Shading,
  options: { readonly segment: boolean; readonly transparent: boolean },
): ShaderMaterial {
  const defines: Record<string, string> = {};
  if (options.segment) defines["SEGMENT"] = "";
  if (options.transparent) defines["TRANSPARENT"] = "";
  const result = material(shading, impostorVertex, impostorFragment, defines);
  if (options.transparent) return makeTransparent(result);
  result.blending = NormalBlending;
  return result;
}

export function lineMaterial(shading: Shading): ShaderMaterial {
  return makeTransparent(material(shading, lineVertex, lineFragment, {}));
}

export function pointMaterial(shading: Shading): ShaderMaterial {
  return makeTransparent(material(shading, pointVertex, pointFragment, {}));
}
