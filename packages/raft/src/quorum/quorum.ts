/**
 * The vocabulary shared by majority and joint quorums: log indices as seen by a quorum, the
 * source of per-voter acknowledgements, and the outcome of a vote.
 *
 * Ported from etcd raft's `quorum` package.
 */

/** A log index as far as quorum arithmetic is concerned. */
export type Index = number;

/**
 * The committed index of an empty majority configuration: "everything". Joint quorums take the
 * minimum of both halves, so an empty half must not hold the other one back (etcd uses
 * math.MaxUint64 for the same purpose). It is not a safe integer: callers that hand it on to the
 * log must treat it as "beyond any index".
 */
export const INDEX_INFINITY: Index = Number.POSITIVE_INFINITY;

/** Renders an index the way etcd's `Index.String()` does (`∞` for the empty quorum's index). */
export function indexToString(i: Index): string {
  return i === INDEX_INFINITY ? '∞' : String(i);
}

/**
 * Where a quorum learns what each voter has acknowledged. Returns `undefined` for a voter that
 * has not reported in, which is different from a voter that acknowledged index 0.
 */
export interface AckedIndexer {
  ackedIndex(voterId: number): Index | undefined;
}

/** An AckedIndexer over a plain map, for tests and for callers that already hold one. */
export class MapAckIndexer implements AckedIndexer {
  readonly indexes: Map<number, Index>;

  constructor(indexes?: Iterable<readonly [number, Index]>) {
    this.indexes = new Map(indexes);
  }

  ackedIndex(voterId: number): Index | undefined {
    return this.indexes.get(voterId);
  }
}

/** The state of an election as far as one configuration can tell. */
export enum VoteResult {
  /** Neither a quorum of yes nor a quorum of no votes has been reached yet. */
  VotePending = 1,
  /** A quorum of no votes has been reached: the election cannot be won any more. */
  VoteLost = 2,
  /** A quorum of yes votes has been reached. */
  VoteWon = 3,
}

/** The name of a vote result as etcd prints it ("VoteWon", ...). */
export function voteResultToString(r: VoteResult): string {
  return VoteResult[r] ?? `VoteResult(${r as number})`;
}
