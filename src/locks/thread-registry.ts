/**
 * ThreadRegistry (interim): who is attached to a shared structure, and whether each is alive.
 * MEMBER_WORDS words per member at `index`:
 *   [0] state   0 free, 1 alive, 2 dead, 3 recovering
 *   [1] ownerId [2] threadId [3] epoch  [4..15] robust read holds
 */
import { currentOwnerId } from './common.js';
import { checkInt, checkSharedWords, ConfigError } from '../shared/validate.js';

export const MEMBER_WORDS = 16;
export type MemberState = 'free' | 'alive' | 'dead' | 'recovering';
const STATES: readonly MemberState[] = ['free', 'alive', 'dead', 'recovering'];

function runtimeThreadId(): number {
  const p = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process;
  const wt = p?.getBuiltinModule?.('node:worker_threads') as { threadId?: number } | undefined;
  return typeof wt?.threadId === 'number' ? wt.threadId : -1;
}

export class ThreadRegistry {
  readonly i32: Int32Array;
  readonly index: number;
  readonly members: number;

  static words(members: number): number {
    return checkInt('members', members, 1, 1 << 16) * MEMBER_WORDS;
  }

  static init(i32: Int32Array, index: number, members: number): void {
    checkSharedWords('ThreadRegistry', i32, index, ThreadRegistry.words(members));
    for (let i = 0; i < members * MEMBER_WORDS; i++) Atomics.store(i32, index + i, 0);
  }

  constructor(i32: Int32Array, index: number, members: number) {
    checkSharedWords('ThreadRegistry', i32, index, ThreadRegistry.words(members));
    this.i32 = i32;
    this.index = index;
    this.members = members;
  }

  private at(m: number): number {
    return this.index + m * MEMBER_WORDS;
  }

  join(options: { threadId?: number } = {}): number {
    for (let m = 0; m < this.members; m++) {
      const at = this.at(m);
      if (Atomics.compareExchange(this.i32, at, 0, 1) !== 0) continue;
      Atomics.store(this.i32, at + 1, currentOwnerId());
      Atomics.store(this.i32, at + 2, options.threadId ?? runtimeThreadId());
      Atomics.add(this.i32, at + 3, 1);
      for (let w = 4; w < MEMBER_WORDS; w++) Atomics.store(this.i32, at + w, 0);
      return m;
    }
    return -1;
  }

  leave(member: number): void {
    if (Atomics.compareExchange(this.i32, this.at(this.check(member)), 1, 0) !== 1) {
      throw new ConfigError('member', `member ${member} is ${this.state(member)}, not alive: only a live member leaves`);
    }
  }

  markDead(member: number): boolean {
    return Atomics.compareExchange(this.i32, this.at(this.check(member)), 1, 2) === 1;
  }

  markThreadDead(threadId: number): number[] {
    const out: number[] = [];
    for (let m = 0; m < this.members; m++) {
      if (Atomics.load(this.i32, this.at(m)) === 1 && Atomics.load(this.i32, this.at(m) + 2) === threadId && this.markDead(m)) out.push(m);
    }
    return out;
  }

  markOwnerDead(ownerId: number): number[] {
    const out: number[] = [];
    for (const m of this.membersOf(ownerId)) if (this.markDead(m)) out.push(m);
    return out;
  }

  beginRecovery(member: number): boolean {
    return Atomics.compareExchange(this.i32, this.at(this.check(member)), 2, 3) === 2;
  }

  finishRecovery(member: number): void {
    if (Atomics.compareExchange(this.i32, this.at(this.check(member)), 3, 0) !== 3) {
      throw new ConfigError('member', `member ${member} is ${this.state(member)}, not recovering`);
    }
  }

  state(member: number): MemberState {
    return STATES[Atomics.load(this.i32, this.at(this.check(member)))] ?? 'free';
  }

  ownerOf(member: number): number { return Atomics.load(this.i32, this.at(this.check(member)) + 1); }
  threadIdOf(member: number): number { return Atomics.load(this.i32, this.at(this.check(member)) + 2); }
  epochOf(member: number): number { return Atomics.load(this.i32, this.at(this.check(member)) + 3); }

  membersOf(ownerId: number): number[] {
    const out: number[] = [];
    for (let m = 0; m < this.members; m++) {
      if (Atomics.load(this.i32, this.at(m)) !== 0 && Atomics.load(this.i32, this.at(m) + 1) === ownerId) out.push(m);
    }
    return out;
  }

  isOwnerDead(ownerId: number): boolean {
    for (let m = 0; m < this.members; m++) {
      const s = Atomics.load(this.i32, this.at(m));
      if ((s === 2 || s === 3) && Atomics.load(this.i32, this.at(m) + 1) === ownerId) return true;
    }
    return false;
  }

  private check(member: number): number {
    return checkInt('member', member, 0, this.members - 1);
  }
}
