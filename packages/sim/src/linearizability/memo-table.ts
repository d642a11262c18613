/**
 * The search's memo of (set of linearized operations, model state) pairs already explored.
 * Sets live side by side in one growable word arena and the table is open-addressed, so that
 * recording a pair allocates nothing but, now and then, a bigger array: the search records
 * one pair per step and the garbage of a typed array per pair dominated its time.
 */
import type { Bitset } from './bitset.js';

const EMPTY = -1;

export class MemoTable {
  /** How many pairs are recorded. */
  size = 0;
  private readonly wordsPerSet: number;
  private readonly stateIds = new Map<string, number>();
  private arena: Uint32Array;
  private slotHash: Int32Array;
  private slotState: Int32Array;
  /** Index of the set in the arena (in sets, not words), or EMPTY. */
  private slotSet: Int32Array;
  private mask: number;

  constructor(wordsPerSet: number) {
    this.wordsPerSet = Math.max(1, wordsPerSet);
    const slots = 1024;
    this.mask = slots - 1;
    this.slotHash = new Int32Array(slots);
    this.slotState = new Int32Array(slots);
    this.slotSet = new Int32Array(slots).fill(EMPTY);
    this.arena = new Uint32Array(this.wordsPerSet * 512);
  }

  /**
   * Records (`set` plus operation `op`, state `key`); returns false when it was already there.
   */
  add(set: Bitset, op: number, key: string): boolean {
    let stateId = this.stateIds.get(key);
    if (stateId === undefined) {
      stateId = this.stateIds.size;
      this.stateIds.set(key, stateId);
    }
    const setHash = set.hashWith(op);
    let slot = this.slotOf(setHash, stateId);
    const W = this.wordsPerSet;
    while (this.slotSet[slot] !== EMPTY) {
      if (this.slotHash[slot] === setHash && this.slotState[slot] === stateId && set.equalsAt(this.arena, this.slotSet[slot]! * W, op)) {
        return false;
      }
      slot = (slot + 1) & this.mask;
    }
    const index = this.size++;
    if ((index + 1) * W > this.arena.length) {
      const bigger = new Uint32Array(this.arena.length * 2);
      bigger.set(this.arena);
      this.arena = bigger;
    }
    set.writeWith(this.arena, index * W, op);
    this.slotHash[slot] = setHash;
    this.slotState[slot] = stateId;
    this.slotSet[slot] = index;
    // Keep the load under a half so that probe runs stay short.
    if (this.size * 2 > this.mask + 1) this.grow();
    return true;
  }

  private slotOf(setHash: number, stateId: number): number {
    let h = setHash ^ Math.imul(stateId + 1, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
    return (h ^ (h >>> 13)) & this.mask;
  }

  private grow(): void {
    const oldHash = this.slotHash;
    const oldState = this.slotState;
    const oldSet = this.slotSet;
    const slots = (this.mask + 1) * 2;
    this.mask = slots - 1;
    this.slotHash = new Int32Array(slots);
    this.slotState = new Int32Array(slots);
    this.slotSet = new Int32Array(slots).fill(EMPTY);
    for (let i = 0; i < oldSet.length; i++) {
      if (oldSet[i] === EMPTY) continue;
      let slot = this.slotOf(oldHash[i]!, oldState[i]!);
      while (this.slotSet[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.slotHash[slot] = oldHash[i]!;
      this.slotState[slot] = oldState[i]!;
      this.slotSet[slot] = oldSet[i]!;
    }
  }
}
