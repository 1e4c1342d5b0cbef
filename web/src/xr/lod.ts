/**
 * Level of detail for a headset: the lowest importance threshold that leaves at most a budget of edge samples
 * drawn, so that the weakest samples go first and the bundles that carry the picture stay.
 */

import { UNIT16 } from "../samples.js";

/** Score histogram resolution: thresholds land on multiples of 1 / 1024 of the [0, 1] score range. */
const BINS = 1024;

/**
 * The smallest threshold (a multiple of 1 / BINS in [0, 1]) such that at most `budget` samples have a score
 * above it (the shaders drop samples with score ≤ threshold). `scoreAndT` is (S, 2) (score, t) as fractions of
 * UNIT16.
 * 0 when everything fits already.
 */
export function thresholdForBudget(scoreAndT: Uint16Array, budget: number): number {
  const count = scoreAndT.length / 2;
  if (count <= budget) return 0;
  const histogram = new Uint32Array(BINS);
  for (let i = 0; i < count; i++) {
    const score = (scoreAndT[2 * i] as number) / UNIT16;
    // Bin b holds scores in ((b - 1) / BINS, b / BINS]; bin 0 holds scores ≤ 0.
    const bin = Math.min(BINS - 1, Math.max(0, Math.ceil(score * BINS)));
    histogram[bin] = (histogram[bin] as number) + 1;
  }
  // Walk down from the top until one more bin would exceed the budget: keep the bins above that one.
  let kept = 0;
  for (let bin = BINS - 1; bin >= 0; bin--) {
    kept += histogram[bin] as number;
    if (kept > budget) return bin / BINS;
  }
  return 0;
}
