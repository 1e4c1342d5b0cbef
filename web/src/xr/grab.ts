/**
 * Moving the network with the hands: one hand holding it carries it along (position and rotation follow the
 * hand rigidly); two hands holding it move it with their midpoint, turn it with the line between them and
 * scale it by their distance. Works on plain matrices, so it is testable without a headset.
 */

import { Matrix4, Quaternion, Vector3 } from "three";

/** Hands closer than this (metres) at the start of a two-hand hold give no usable scale reference. */
const MIN_HAND_DISTANCE = 0.01;

export class Grab {
  /** The held object's matrix when the current hold (or change of hands) began. */
  private readonly start = new Matrix4();
  /** One hand: the object in that hand's frame. */
  private readonly offset = new Matrix4();
  private readonly startA = new Vector3();
  private readonly startB = new Vector3();
  private readonly startMid = new Vector3();
  private readonly a = new Vector3();
  private readonly b = new Vector3();
  private readonly along = new Vector3();
  private readonly startAlong = new Vector3();
  private readonly turn = new Quaternion();
  private readonly step = new Matrix4();
  private readonly scratch = new Matrix4();

  /** Begin a hold (or re-anchor when a hand joins or leaves) with the object at `object`. */
  begin(object: Matrix4, hands: readonly Matrix4[]): void {
    this.start.copy(object);
    if (hands.length === 1) {
      this.offset.copy(hands[0] as Matrix4).invert().multiply(object);
    } else if (hands.length >= 2) {
      this.startA.setFromMatrixPosition(hands[0] as Matrix4);
      this.startB.setFromMatrixPosition(hands[1] as Matrix4);
      this.startMid.addVectors(this.startA, this.startB).multiplyScalar(0.5);
    }
  }

  /** The object's matrix for the hands' current poses, written into `result` (unchanged with no hands). */
  update(hands: readonly Matrix4[], result: Matrix4): Matrix4 {
    if (hands.length === 1) return result.multiplyMatrices(hands[0] as Matrix4, this.offset);
    if (hands.length < 2) return result;
    this.a.setFromMatrixPosition(hands[0] as Matrix4);
    this.b.setFromMatrixPosition(hands[1] as Matrix4);
    this.startAlong.subVectors(this.startB, this.startA);
    this.along.subVectors(this.b, this.a);
    const startDistance = this.startAlong.length();
    if (startDistance < MIN_HAND_DISTANCE) return result;
    const scale = this.along.length() / startDistance;
    this.turn.setFromUnitVectors(this.startAlong.normalize(), this.along.normalize());
    // result = T(mid) · R · S(scale) · T(−startMid) · start
    const mid = this.a.add(this.b).multiplyScalar(0.5);
    this.step.makeTranslation(-this.startMid.x, -this.startMid.y, -this.startMid.z);
    this.scratch.makeScale(scale, scale, scale);
    this.step.premultiply(this.scratch);
    this.scratch.makeRotationFromQuaternion(this.turn);
    this.step.premultiply(this.scratch);
    this.scratch.makeTranslation(mid.x, mid.y, mid.z);
    this.step.premultiply(this.scratch);
    return result.multiplyMatrices(this.step, this.start);
  }
}
