import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import type { Rand } from './rand.js';
import { SeededRand } from './rand.js';
import type { Storage } from './storage.js';
import { LocalAppendThread, LocalApplyThread } from './local-threads.js';

/** How read-only requests (ReadIndex) are made linearizable. */
export enum ReadOnlyOption {
  /** Confirm leadership with a heartbeat round to a quorum. The default and the safe choice. */
  ReadOnlySafe = 0,
  /**
   * Trust the leader lease: no round trip, but relies on bounded clock drift between nodes.
   * Requires checkQuorum.
   */
  ReadOnlyLeaseBased = 1,
}

/** The parameters of one Raft node (core). Limits given as `Infinity` mean "no limit". */
export interface Config {
  /** This node's id. Never 0. */
  id: number;
  /** Ticks a follower waits without hearing from a leader before campaigning. > heartbeatTick. */
  electionTick: number;
  /** Ticks between a leader's heartbeats. */
  heartbeatTick: number;
  /** Where persisted entries and state are read from. */
  storage: Storage;
  /** The last applied index, when restarting; entries up to it are not handed out again. */
  applied?: number | undefined;
  /**
   * Persist and apply through MsgStorageAppend / MsgStorageApply messages to the local append
   * and apply threads instead of the Ready/advance contract (etcd's AsyncStorageWrites).
   */
  asyncStorageWrites?: boolean | undefined;
  /** Max bytes of entries per append message; 0 means one entry per message. Default Infinity. */
  maxSizePerMsg?: number | undefined;
  /** Max bytes of committed entries being applied at once. Default: maxSizePerMsg. */
  maxCommittedSizePerReady?: number | undefined;
  /** Max payload bytes of the leader's uncommitted tail; proposals beyond it are dropped. */
  maxUncommittedEntriesSize?: number | undefined;
  /** Max append messages in flight to one follower. Default 256. */
  maxInflightMsgs?: number | undefined;
  /** Max bytes of append messages in flight to one follower. Default Infinity. */
  maxInflightBytes?: number | undefined;
  /** The leader steps down when it has not heard from a quorum within an election timeout. */
  checkQuorum?: boolean | undefined;
  /** Run the PreVote phase before an election (Raft thesis §9.6). */
  preVote?: boolean | undefined;
  readOnlyOption?: ReadOnlyOption | undefined;
  logger?: Logger | undefined;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean | undefined;
  /**
   * Skip the propose-time checks of conf changes. Unsafe unless the application serializes and
   * verifies conf changes itself: an invalid change that gets applied throws.
   */
  disableConfChangeValidation?: boolean | undefined;
  /** A leader removed from (or demoted in) the configuration steps down. */
  stepDownOnRemoval?: boolean | undefined;
  /** Source of randomness for election timeouts. Default: a SeededRand seeded with the id. */
  rand?: Rand | undefined;
}

/** A Config with every option resolved; what the core runs on. */
export interface ResolvedConfig {
  id: number;
  electionTick: number;
  heartbeatTick: number;
  storage: Storage;
  applied: number;
  asyncStorageWrites: boolean;
  maxSizePerMsg: number;
  maxCommittedSizePerReady: number;
  maxUncommittedEntriesSize: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  checkQuorum: boolean;
  preVote: boolean;
  readOnlyOption: ReadOnlyOption;
  logger: Logger;
  disableProposalForwarding: boolean;
  disableConfChangeValidation: boolean;
  stepDownOnRemoval: boolean;
  rand: Rand;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) || n === Infinity;
}

/**
 * Checks a Config and fills in defaults. Throws ConfigError naming the first bad field.
 */
export function validateConfig(c: Config): ResolvedConfig {
  if (!Number.isSafeInteger(c.id) || c.id <= 0) {
    throw new ConfigError('id', `must be a positive safe integer (0 means "no node"), got ${c.id}`);
  }
  if (c.id === LocalAppendThread || c.id === LocalApplyThread) {
    throw new ConfigError('id', 'cannot use the id reserved for a local storage thread');
  }
  if (!Number.isSafeInteger(c.heartbeatTick) || c.heartbeatTick <= 0) {
    throw new ConfigError('heartbeatTick', `must be > 0, got ${c.heartbeatTick}`);
  }
  if (!Number.isSafeInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    throw new ConfigError(
      'electionTick',
      `must be greater than heartbeatTick (${c.heartbeatTick}), got ${c.electionTick}`,
    );
  }
  if (c.storage === undefined || c.storage === null) {
    throw new ConfigError('storage', 'is required');
  }
  const maxSizePerMsg = c.maxSizePerMsg ?? Infinity;
  if (!isCount(maxSizePerMsg) || maxSizePerMsg < 0) {
    throw new ConfigError('maxSizePerMsg', `must be >= 0, got ${maxSizePerMsg}`);
  }
  let maxUncommitted = c.maxUncommittedEntriesSize ?? Infinity;
  if (!isCount(maxUncommitted) || maxUncommitted < 0) {
    throw new ConfigError('maxUncommittedEntriesSize', `must be >= 0, got ${maxUncommitted}`);
  }
  // 0 has always meant "no limit" in etcd's raft; keep that meaning.
  if (maxUncommitted === 0) maxUncommitted = Infinity;
  let maxCommitted = c.maxCommittedSizePerReady ?? 0;
  if (!isCount(maxCommitted) || maxCommitted < 0) {
    throw new ConfigError('maxCommittedSizePerReady', `must be >= 0, got ${maxCommitted}`);
  }
  // Historically the same knob as maxSizePerMsg, hence the default. A budget of 0 bytes would
  // apply nothing; like a message limit of 0, it means one entry at a time.
  if (maxCommitted === 0) maxCommitted = maxSizePerMsg === 0 ? 1 : maxSizePerMsg;
  const maxInflightMsgs = c.maxInflightMsgs ?? 256;
  if (!Number.isSafeInteger(maxInflightMsgs) || maxInflightMsgs <= 0) {
    throw new ConfigError('maxInflightMsgs', `must be > 0, got ${maxInflightMsgs}`);
  }
  let maxInflightBytes = c.maxInflightBytes ?? 0;
  if (!isCount(maxInflightBytes) || maxInflightBytes < 0) {
    throw new ConfigError('maxInflightBytes', `must be >= 0, got ${maxInflightBytes}`);
  }
  if (maxInflightBytes === 0) {
    maxInflightBytes = Infinity;
  } else if (maxInflightBytes < maxSizePerMsg) {
    throw new ConfigError(
      'maxInflightBytes',
      `must be >= maxSizePerMsg (${maxSizePerMsg}), got ${maxInflightBytes}`,
    );
  }
  const readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.ReadOnlySafe;
  const checkQuorum = c.checkQuorum ?? false;
  if (readOnlyOption === ReadOnlyOption.ReadOnlyLeaseBased && !checkQuorum) {
    throw new ConfigError('readOnlyOption', 'checkQuorum must be enabled for lease-based reads');
  }
  const applied = c.applied ?? 0;
  if (!Number.isSafeInteger(applied) || applied < 0) {
    throw new ConfigError('applied', `must be >= 0, got ${applied}`);
  }
  return {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    storage: c.storage,
    applied,
    asyncStorageWrites: c.asyncStorageWrites ?? false,
    maxSizePerMsg,
    maxCommittedSizePerReady: maxCommitted,
    maxUncommittedEntriesSize: maxUncommitted,
    maxInflightMsgs,
    maxInflightBytes,
    checkQuorum,
    preVote: c.preVote ?? false,
    readOnlyOption,
    logger: c.logger ?? silentLogger,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    disableConfChangeValidation: c.disableConfChangeValidation ?? false,
    stepDownOnRemoval: c.stepDownOnRemoval ?? false,
    rand: c.rand ?? new SeededRand(c.id),
  };
}
