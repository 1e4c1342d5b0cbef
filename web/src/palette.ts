/**
 * Class colours: the original tool's ten (docs/viewer.md, "Palette"), then procedurally more (golden-angle
 * hues), so any class count works.
 */

/** RGB in [0, 1] of classes 0-9. */
const BASE_PALETTE: readonly (readonly [number, number, number])[] = [
  [0.133, 0.545, 0.133],
  [0, 0, 0.545],
  [0.69, 0.188, 0.376],
  [1, 0.271, 0],
  [1, 1, 0],
  [0.871, 0.722, 0.529],
  [0, 1, 0],
  [0, 1, 1],
  [1, 0, 1],
  [0.392, 0.584, 0.929],
];

const GOLDEN_ANGLE_DEGREES = 137.508;
const EXTRA_SATURATION = 0.7;
const EXTRA_LIGHTNESS = 0.5;

/** A flat (C, 3) float array of class colours for `nClasses` classes. */
export function palette(nClasses: number): Float32Array {
  const colours = new Float32Array(nClasses * 3);
  for (let c = 0; c < nClasses; c++) {
    const hue = ((c - BASE_PALETTE.length) * GOLDEN_ANGLE_DEGREES) % 360;
    const rgb = BASE_PALETTE[c] ?? hslToRgb(hue, EXTRA_SATURATION, EXTRA_LIGHTNESS);
    colours.set(rgb, c * 3);
  }
  return colours;
}

/** CSS colour of class `c`, for the class buttons. */
export function cssColour(c: number): string {
  const rgb = palette(c + 1).subarray(c * 3);
  return `rgb(${Array.from(rgb, (v) => Math.round(v * 255)).join(",")})`;
}

function hslToRgb(hueDegrees: number, s: number, l: number): [number, number, number] {
  const chroma = (1 - Math.abs(2 * l - 1)) * s;
  const h = hueDegrees / 60;
  const x = chroma * (1 - Math.abs((h % 2) - 1));
  const m = l - chroma / 2;
  const sector = Math.floor(h) % 6;
  const [r, g, b] = [
    [chroma, x, 0],
    [x, chroma, 0],
    [0, chroma, x],
    [0, x, chroma],
    [x, 0, chroma],
    [chroma, 0, x],
  ][sector] as [number, number, number];
  return [r + m, g + m, b + m];
}
