/**
 * Keeps orbiting fluid on slow GPUs: while the view moves, frames slower than the budget lower the drawing
 * resolution a step, fast ones raise it a step; once the view rests, one frame at full resolution follows.
 * A fast GPU never leaves full resolution.
 */

const STEPS = [1, 0.7, 0.5, 0.35];
const FRAME_BUDGET_MS = 1000 / 30;
const FAST_FRAME_MS = FRAME_BUDGET_MS / 2;
/** How long the view must rest before the full-resolution frame. */
const REST_MS = 250;

export class ResolutionGovernor {
  private step = 0;
  private lastFrameTime = Number.NEGATIVE_INFINITY;
  private lastMotionTime = Number.NEGATIVE_INFINITY;
  private previousFrameMoved = false;
  /** The scale of the last frame drawn. */
  private drawnScale = 1;

  /** Call at each frame drawn; returns the resolution scale (0-1] to draw it at. */
  frame(now: number, moving: boolean): number {
    if (moving) {
      const interval = now - this.lastFrameTime;
      if (this.previousFrameMoved && interval > FRAME_BUDGET_MS) this.step = Math.min(this.step + 1, STEPS.length - 1);
      else if (this.previousFrameMoved && interval < FAST_FRAME_MS) this.step = Math.max(this.step - 1, 0);
      this.lastMotionTime = now;
    }
    this.previousFrameMoved = moving;
    this.lastFrameTime = now;
    this.drawnScale = moving ? (STEPS[this.step] as number) : 1;
    return this.drawnScale;
  }

  /** True when the view has rested long enough after a reduced frame to deserve a full-resolution one. */
  wantsFullFrame(now: number): boolean {
    return this.drawnScale < 1 && now - this.lastMotionTime > REST_MS;
  }
}
