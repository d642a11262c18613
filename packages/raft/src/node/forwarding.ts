/**
 * Proposals on followers (etcd's proposal forwarding, made safe to wait on).
 *
 * A follower wraps each command in an envelope tagged (member id, incarnation nonce, sequence,
 * term T it knows the leader in) and hands it to the core, which forwards it to the leader as a
 * MsgProp. The follower cannot learn the entry's index (the core's forwarding has no answer),
 * so it watches what it applies instead:
 *
 * - an applied entry carrying its tag, in term T: the proposal took effect; it settles with the
 *   state machine's result, here and nowhere else (only this member knows the nonce);
 * - every member skips (does not apply) a forwarded entry whose term is not the T in its tag:
 *   a MsgProp delayed past a leader change and appended by a later leader never takes effect;
 * - so once this member applies any entry of a term above T without having seen the tag, the
 *   proposal is certainly not applied and never will be (terms only grow along the log, and
 *   only the leader of T appends entries of term T): ProposalDroppedError;
 * - the leader of T appends a tag at most once: it remembers the tags of its term and drops a
 *   duplicated MsgProp (the network may duplicate). With the term rule, a command is applied at
 *   most once however forwarding races leader changes;
 * - otherwise (the MsgProp may be lost, or merely late) the outcome stays open: on timeout,
 *   abort or stop the proposal rejects with ProposalOutcomeUnknownError (index 0: not known
 *   here). A snapshot that jumps past term T makes the outcome unknown too.
 */
import { randomBytes } from 'node:crypto';
import { ProposalDroppedError, ProposalOutcomeUnknownError } from '../errors.js';
import { EntryType, MessageType } from '../types.js';
import type { Entry, Message } from '../types.js';
import type { ForwardTag } from './command-envelope.js';
import { ENVELOPE_MARK, decodeCommand, encodeForwardedCommand } from './command-envelope.js';
import type { OutcomeUnknownReason } from '../errors.js';
import type { NodeContext } from './node-context.js';
import type { Proposal } from './proposals.js';
import type { AnyStateMachine } from './state-machine.js';

/** Tags a leader remembers per forwarding member before it forgets the oldest half. */
const SEEN_WINDOW = 8192;

/** The tags of one member incarnation the leader appended in its current term. */
interface SeenTags {
  /** Every sequence at or below it counts as seen (dropping a late copy is always safe). */
  floor: number;
  maxSeq: number;
  seqs: Set<number>;
}

function nonceKey(memberId: number, nonce: Uint8Array): string {
  let s = `${memberId}:`;
  for (const b of nonce) s += b.toString(16).padStart(2, '0');
  return s;
}

export class ForwardingHandler<SM extends AnyStateMachine> {
  private readonly nonce = randomBytes(8);
  private seq = 0;
  /** Forwarded proposals waiting for their entry, by sequence (so in order of their term). */
  private readonly pending = new Map<number, Proposal>();
  /** On the leader: the tags appended in `seenTerm`, by member incarnation. */
  private readonly seen = new Map<string, SeenTags>();
  private seenTerm = 0;
  /** Tags admitted by the last admit(), remembered once the core accepted the message. */
  private pendingAdmit: ForwardTag[] | undefined;

  constructor(private readonly ctx: NodeContext<SM>) {}

  /**
   * Wraps the batch's commands and hands them to the core for forwarding to the leader.
   * Throws what the core throws when it cannot forward (no leader known).
   */
  forward(batch: readonly Proposal[]): void {
    const ctx = this.ctx;
    const term = ctx.rawNode.term;
    const firstSeq = this.seq + 1;
    const data = batch.map((p, k) =>
      encodeForwardedCommand({ memberId: ctx.id, nonce: this.nonce, seq: firstSeq + k, term }, p.data),
    );
    ctx.rawNode.proposeBatch(data);
    this.seq += batch.length;
    batch.forEach((p, k) => {
      p.index = 0;
      p.term = term;
      p.forwardSeq = firstSeq + k;
      this.pending.set(firstSeq + k, p);
    });
  }

  /** The caller stopped waiting for a forwarded proposal. */
  forget(p: Proposal): void {
    this.pending.delete(p.forwardSeq);
  }

  /**
   * On the leader, before the core sees a MsgProp from a peer: drops the forwarded commands
   * that must not be appended (another term's, or a tag already appended in this term).
   * Returns the message to step, or undefined when nothing is left of it.
   */
  admit(m: Message): Message | undefined {
    const ctx = this.ctx;
    if (m.type !== MessageType.MsgProp || !ctx.rawNode.isLeader) return m;
    const term = ctx.rawNode.term;
    if (term !== this.seenTerm) {
      this.seen.clear();
      this.seenTerm = term;
    }
    let kept: Entry[] | undefined;
    let tags: ForwardTag[] | undefined;
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      let keep = true;
      if (e.type === EntryType.EntryNormal && e.data.length > 0 && e.data[0] === ENVELOPE_MARK) {
        const c = decodeCommand(e.data);
        if (c.kind === 'forwarded') {
          keep = c.tag.term === term && !this.wasAppended(c.tag);
          if (keep) (tags ??= []).push(c.tag);
        }
      }
      if (!keep && kept === undefined) kept = m.entries.slice(0, i);
      else if (keep && kept !== undefined) kept.push(e);
    }
    const out = kept === undefined ? m : { ...m, entries: kept };
    if (out.entries.length === 0) return undefined;
    if (tags !== undefined) this.pendingAdmit = tags;
    return out;
  }

  /** The core appended the last admitted message: remember its tags. */
  admitted(): void {
    const tags = this.pendingAdmit;
    this.pendingAdmit = undefined;
    if (tags === undefined) return;
    for (const t of tags) this.remember(t);
  }

  /** The core refused the last admitted message (it appended nothing). */
  refused(): void {
    this.pendingAdmit = undefined;
  }

  private wasAppended(t: ForwardTag): boolean {
    const s = this.seen.get(nonceKey(t.memberId, t.nonce));
    return s !== undefined && (t.seq <= s.floor || s.seqs.has(t.seq));
  }

  private remember(t: ForwardTag): void {
    const key = nonceKey(t.memberId, t.nonce);
    let s = this.seen.get(key);
    if (s === undefined) {
      s = { floor: 0, maxSeq: 0, seqs: new Set() };
      this.seen.set(key, s);
    }
    s.seqs.add(t.seq);
    if (t.seq > s.maxSeq) s.maxSeq = t.seq;
    if (s.seqs.size > SEEN_WINDOW) {
      s.floor = s.maxSeq - SEEN_WINDOW / 2;
      for (const q of s.seqs) if (q <= s.floor) s.seqs.delete(q);
    }
  }

  /**
   * An entry was applied (or skipped) here: settles this member's forwarded proposal it
   * carries, and drops those the term rule proves lost. `tag` is the entry's forwarding tag
   * when it was applied as one.
   */
  settle(e: Entry, result: unknown, tag: ForwardTag | undefined): void {
    if (this.pending.size === 0) return;
    if (tag !== undefined && tag.memberId === this.ctx.id && sameNonce(tag.nonce, this.nonce)) {
      const p = this.pending.get(tag.seq);
      if (p !== undefined) {
        this.pending.delete(tag.seq);
        p.index = e.index;
        p.waiter.resolve(result);
      }
    }
    // Pending proposals are in sequence order, so in order of term: stop at the first that
    // may still apply.
    for (const [seq, p] of this.pending) {
      if (p.term >= e.term) break;
      this.pending.delete(seq);
      p.waiter.reject(
        new ProposalDroppedError(
          `raft proposal dropped: forwarded in term ${p.term}, and index ${e.index} of term ${e.term} applied without it`,
        ),
      );
    }
  }

  /** A snapshot up to term `term` was installed: proposals forwarded up to it may be inside. */
  forgetUpToTerm(term: number): void {
    for (const [seq, p] of this.pending) {
      if (p.term > term) break;
      this.pending.delete(seq);
      p.waiter.reject(new ProposalOutcomeUnknownError(0, p.term, 'snapshot'));
    }
  }

  /** The node stopped: every forwarded proposal may still be applied elsewhere. */
  rejectAll(reason: OutcomeUnknownReason, cause: Error | undefined): void {
    for (const p of this.pending.values()) p.waiter.reject(new ProposalOutcomeUnknownError(0, p.term, reason, cause));
    this.pending.clear();
  }
}

function sameNonce(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
