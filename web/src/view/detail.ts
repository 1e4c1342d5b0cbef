/**
 * How many edge samples a frame draws (the level of detail of a progressive picture): as many as this GPU draws
 * within the frame budget, learnt from how long the previous frames took. A fast GPU doubles the count frame
 * after frame until a picture fits in one frame; a software renderer settles at what it draws in a frame.
 */

const FRAME_BUDGET_MS = 1000 / 30;
/** Before anything is measured: what a software renderer (Mesa llvmpipe, 2 busy cores) draws in half a second. */
const FIRST_SAMPLES = 8192;
const MIN_SAMPLES = 1024;
// Per frame the count changes by at most these factors, so one slow or fast frame does not swing it.
const MAX_GROWTH = 2;
const MAX_SHRINK = 4;

export class DetailGovernor {
  private samples = FIRST_SAMPLES;
  private lastFrameTime = Number.NEGATIVE_INFINITY;
  private lastDrawn = 0;

  /**
   * The sample budget of a frame about to be drawn at `now`; `following`: the frame loop's previous tick drew
   * the last frame, so the time since then is what that frame cost.
   */
  budget(now: number, following: boolean): number {
    if (following && this.lastDrawn > 0) {
      const rate = this.lastDrawn / Math.max(now - this.lastFrameTime, 1);
      const wanted = rate * FRAME_BUDGET_MS;
      this.samples = Math.max(MIN_SAMPLES, Math.min(wanted, this.samples * MAX_GROWTH), this.samples / MAX_SHRINK);
    }
    return Math.round(this.samples);
  }

  /** Call after drawing a frame of `drawn` edge samples at `now`. */
  drew(now: number, drawn: number): void {
    this.lastFrameTime = now;
    this.lastDrawn = drawn;
  }
}
