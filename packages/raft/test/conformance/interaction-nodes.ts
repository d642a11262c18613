/**
 * Interaction commands that create nodes, drive one node through its RawNode API, or print
 * what a node knows (etcd rafttest's add-nodes, campaign, propose, ..., raft-log, status).
 */
import { ReadOnlyOption, type Config } from '../../src/config.js';
import { confChangesFromString } from '../support/conf-change-text.js';
import { describeEntries } from '../support/describe.js';
import { RawNode, raftOf } from '../../src/raw-node.js';
import { progressMapToString } from '../../src/tracker/progress.js';
import {
  ConfChangeTransition,
  StateType,
  emptySnapshot,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type Snapshot,
} from '../../src/types.js';
import { parseIntStrict, parseBoolStrict, type TestData } from './datadriven.js';
import {
  fatal,
  firstAsInt,
  firstAsNodeIdx,
  nodeIdxs,
  scanBool,
  scanUint,
  type Cmd,
  type InteractionEnv,
  type InteractionNode,
} from './interaction-env.js';
import { HarnessError } from './interaction-errors.js';
import { InteractionStorage } from './interaction-storage.js';

const utf8 = new TextEncoder();

/** Go's math.MaxInt32: etcd's test stub sets no practical limit on inflight messages. */
const MAX_INT32 = 2147483647;

/**
 * The Config every node starts from (etcd's raftConfigStub): short timeouts, no size limits.
 * id and storage are filled in per node.
 */
function raftConfigStub(): Omit<Config, 'id' | 'storage'> {
  return {
    electionTick: 3,
    heartbeatTick: 1,
    maxSizePerMsg: Infinity,
    maxInflightMsgs: MAX_INT32,
  };
}

/**
 * add-nodes <n> [voters=(1,2,3)] [learners=(4,5)] [index=2] [content=foo]
 *   [async-storage-writes=true] [prevote=true] [checkquorum=true] [inflight=2]
 *   [max-committed-size-per-ready=1] [disable-conf-change-validation=true]
 *   [read-only=safe|lease-based] [step-down-on-removal=true] [max-uncommitted-size=<bytes>]
 *
 * step-down-on-removal is etcd's own flag (Config.StepDownOnRemoval). max-uncommitted-size
 * (Config.MaxUncommittedEntriesSize) is ours: etcd's harness has no spelling for it.
 */
export function handleAddNodes(env: InteractionEnv, c: Cmd): void {
  const n = firstAsInt(c);
  const snap = emptySnapshot();
  const cs = snap.metadata.confState;
  const cfg = raftConfigStub();
  for (const arg of c.args.slice(1)) {
    for (let i = 0; i < arg.vals.length; i++) {
      switch (arg.key) {
        case 'voters':
          cs.voters.push(scanUint(c, arg, i));
          break;
        case 'learners':
          cs.learners.push(scanUint(c, arg, i));
          break;
        case 'inflight':
          cfg.maxInflightMsgs = scanUint(c, arg, i);
          break;
        case 'index':
          snap.metadata.index = scanUint(c, arg, i);
          cfg.applied = snap.metadata.index;
          break;
        case 'content':
          snap.data = utf8.encode(arg.vals[i]!);
          break;
        case 'async-storage-writes':
          cfg.asyncStorageWrites = scanBool(c, arg, i);
          break;
        case 'prevote':
          cfg.preVote = scanBool(c, arg, i);
          break;
        case 'checkquorum':
          cfg.checkQuorum = scanBool(c, arg, i);
          break;
        case 'max-committed-size-per-ready':
          cfg.maxCommittedSizePerReady = scanUint(c, arg, i);
          break;
        case 'disable-conf-change-validation':
          cfg.disableConfChangeValidation = scanBool(c, arg, i);
          break;
        case 'step-down-on-removal':
          cfg.stepDownOnRemoval = scanBool(c, arg, i);
          break;
        case 'max-uncommitted-size':
          cfg.maxUncommittedEntriesSize = scanUint(c, arg, i);
          break;
        case 'read-only':
          switch (arg.vals[i]) {
            case 'safe':
              cfg.readOnlyOption = ReadOnlyOption.ReadOnlySafe;
              break;
            case 'lease-based':
              cfg.readOnlyOption = ReadOnlyOption.ReadOnlyLeaseBased;
              break;
            default:
              throw new HarnessError(`invalid read-only option ${JSON.stringify(arg.vals[i])}`);
          }
          break;
      }
    }
  }
  addNodes(env, n, cfg, snap);
}

function isEmptySnapshotValue(s: Snapshot): boolean {
  const m = s.metadata;
  const cs = m.confState;
  return (
    s.data.length === 0 &&
    m.index === 0 &&
    m.term === 0 &&
    cs.voters.length === 0 &&
    cs.learners.length === 0 &&
    cs.votersOutgoing.length === 0 &&
    cs.learnersNext.length === 0 &&
    !cs.autoLeave
  );
}

/**
 * Adds `n` nodes with consecutive ids, each started from `snap` (a bootstrap snapshot at term
 * 1, unless it is empty) with `cfg` as template.
 */
export function addNodes(
  env: InteractionEnv,
  n: number,
  cfgStub: Omit<Config, 'id' | 'storage'>,
  snap: Snapshot,
): void {
  const bootstrap = !isEmptySnapshotValue(snap);
  for (let i = 0; i < n; i++) {
    const id = 1 + env.nodes.length;
    const storage = new InteractionStorage();
    // Asking for a snapshot yields the latest state of the node's state machine.
    storage.snapshotOverride = () => {
      const h = env.nodes[id - 1]?.history;
      return h === undefined ? snap : h[h.length - 1]!;
    };
    if (bootstrap) {
      // MemoryStorage cannot bootstrap at index 1 (its dummy entry sits there).
      if (snap.metadata.index <= 1) throw new HarnessError('index must be specified as > 1 due to bootstrap');
      snap.metadata.term = 1;
      storage.applySnapshot(snap);
      const fi = storage.firstIndex();
      const exp = snap.metadata.index + 1;
      if (fi !== exp) throw new HarnessError(`failed to establish first index ${exp}; got ${fi}`);
    }
    const cfg: Config = { ...cfgStub, id, storage };
    if (env.options.onConfig !== undefined) {
      env.options.onConfig(cfg);
      if (cfg.id !== id) throw new HarnessError('OnConfig must not change the ID');
    }
    if (cfg.logger !== undefined) throw new HarnessError('OnConfig must not set Logger');
    cfg.logger = env.output;
    const rawNode = new RawNode(cfg);
    const node: InteractionNode = { rawNode, storage, config: cfg, appendWork: [], applyWork: [], history: [snap] };
    env.nodes.push(node);
  }
}

/** campaign <id> */
export function handleCampaign(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  if (idx < 0 || idx >= env.nodes.length) {
    throw new HarnessError(`node index ${idx} out of range [0, ${env.nodes.length})`);
  }
  env.node(idx).rawNode.campaign();
}

/** propose <id> <data> */
export function handlePropose(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  if (c.args.length !== 2 || c.args[1]!.vals.length > 0) fatal(c, 'expected exactly one key with no vals');
  env.node(idx).rawNode.propose(utf8.encode(c.args[1]!.key));
}

/**
 * read-index <id> <ctx>: calls <id>.readIndex(<ctx>) (etcd's RawNode.ReadIndex). Not an etcd
 * harness command: ours, for ReadIndex scenarios. The answer, if any, shows up later as
 * `ReadStates [{<index> [<ctx bytes>]}]` in a Ready of the node, as etcd's DescribeReady prints
 * it. Like etcd's RawNode.ReadIndex, a request that cannot be served is dropped silently.
 */
export function handleReadIndex(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  if (c.args.length !== 2 || c.args[1]!.vals.length > 0) fatal(c, 'expected a node id and one request context');
  env.node(idx).rawNode.readIndex(utf8.encode(c.args[1]!.key));
}

/**
 * propose-conf-change <id> [v1=<bool>] [transition=auto|implicit|explicit], with the changes
 * (`v2 l3 r4 u5`) as input.
 */
export function handleProposeConfChange(env: InteractionEnv, d: TestData): void {
  const c: Cmd = { d, cmd: d.cmd, args: d.cmdArgs };
  const idx = firstAsNodeIdx(c);
  let v1 = false;
  let transition = ConfChangeTransition.ConfChangeTransitionAuto;
  for (const arg of d.cmdArgs.slice(1)) {
    for (const val of arg.vals) {
      switch (arg.key) {
        case 'v1': {
          const b = parseBoolStrict(val);
          if (b === undefined) throw new HarnessError(`strconv.ParseBool: parsing ${JSON.stringify(val)}: invalid syntax`);
          v1 = b;
          break;
        }
        case 'transition':
          switch (val) {
            case 'auto':
              transition = ConfChangeTransition.ConfChangeTransitionAuto;
              break;
            case 'implicit':
              transition = ConfChangeTransition.ConfChangeTransitionJointImplicit;
              break;
            case 'explicit':
              transition = ConfChangeTransition.ConfChangeTransitionJointExplicit;
              break;
            default:
              throw new HarnessError(`unknown transition ${val}`);
          }
          break;
        default:
          throw new HarnessError(`unknown command ${arg.key}`);
      }
    }
  }
  let ccs: ConfChangeSingle[];
  try {
    ccs = confChangesFromString(d.input);
  } catch (e) {
    throw new HarnessError((e as Error).message);
  }
  let cc: ConfChange | ConfChangeV2;
  if (v1) {
    if (ccs.length > 1 || transition !== ConfChangeTransition.ConfChangeTransitionAuto) {
      throw new HarnessError('v1 conf change can only have one operation and no transition');
    }
    if (ccs.length === 0) fatal(c, 'v1 conf change needs one operation');
    cc = { type: ccs[0]!.type, nodeId: ccs[0]!.nodeId };
  } else {
    cc = { transition, changes: ccs };
  }
  env.node(idx).rawNode.proposeConfChange(cc);
}

function tick(env: InteractionEnv, idx: number, num: number): void {
  const rn = env.node(idx).rawNode;
  for (let i = 0; i < num; i++) rn.tick();
}

/** tick-election <id>: electionTick ticks (beware the randomized timeout). */
export function handleTickElection(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  tick(env, idx, env.node(idx).config.electionTick);
}

/** tick-heartbeat <id>: heartbeatTick ticks. */
export function handleTickHeartbeat(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  tick(env, idx, env.node(idx).config.heartbeatTick);
}

/** transfer-leadership from=<id> to=<id> */
export function handleTransferLeadership(env: InteractionEnv, c: Cmd): void {
  const arg = (key: string): number => {
    const a = c.args.find((x) => x.key === key);
    if (a === undefined) fatal(c, `missing argument ${key}`);
    const v = scanUint(c, a, 0);
    if (v === 0 || v > env.nodes.length) fatal(c, `expected valid "${key}" argument`);
    return v;
  };
  const from = arg('from');
  const to = arg('to');
  env.node(from - 1).rawNode.transferLeadership(to);
}

/** forget-leader <id> */
export function forgetLeader(env: InteractionEnv, idx: number): void {
  env.node(idx).rawNode.forgetLeader();
}

/** report-unreachable <on> <reported>: calls <on>.reportUnreachable(<reported>). */
export function handleReportUnreachable(env: InteractionEnv, c: Cmd): void {
  const sl = nodeIdxs(c);
  if (sl.length !== 2) {
    throw new HarnessError('must specify exactly two node indexes: node on which to report, and reported node');
  }
  env.node(sl[0]!).rawNode.reportUnreachable(env.node(sl[1]!).config.id);
}

/** set-randomized-election-timeout <id> timeout=<ticks>: until the node's next role change. */
export function handleSetRandomizedElectionTimeout(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  const a = c.args.find((x) => x.key === 'timeout');
  if (a === undefined) fatal(c, 'missing argument timeout');
  const timeout = parseIntStrict(a.vals[0] ?? '');
  if (timeout === undefined || timeout === 0) fatal(c, `timeout must be a non-zero integer, got ${a.vals[0]}`);
  raftOf(env.node(idx).rawNode).randomizedElectionTimeout = timeout;
}

/** compact <id> <new-first-index>: compacts the storage, then prints the log. */
export function handleCompact(env: InteractionEnv, c: Cmd): void {
  const idx = firstAsNodeIdx(c);
  const key = c.args[1]?.key ?? '';
  const newFirstIndex = parseIntStrict(key);
  if (newFirstIndex === undefined || newFirstIndex < 0) {
    throw new HarnessError(`strconv.ParseUint: parsing ${JSON.stringify(key)}: invalid syntax`);
  }
  env.node(idx).storage.compact(newFirstIndex);
  raftLog(env, idx);
}

/** raft-log <id>: the entries in the node's storage (persisted, not the unstable tail). */
export function raftLog(env: InteractionEnv, idx: number): void {
  const s = env.node(idx).storage;
  const fi = s.firstIndex();
  const li = s.lastIndex();
  if (li < fi) {
    env.output.write(`log is empty: first index=${fi}, last index=${li}`);
    return;
  }
  env.output.write(describeEntries(s.entries(fi, li + 1, Infinity)));
}

/** raft-state: role, voter status, term and leader of every node, each by its own view. */
export function raftState(env: InteractionEnv): void {
  for (const n of env.nodes) {
    const st = n.rawNode.status();
    // A voter of either half of a joint configuration counts as a voter.
    const voterStatus = st.config.voters.ids().has(st.id) ? '(Voter)' : '(Non-Voter)';
    env.output.write(
      `${st.id}: ${StateType[st.softState.raftState]} ${voterStatus} Term:${st.hardState.term} Lead:${st.softState.lead}\n`,
    );
  }
}

/** status <id>: the leader's view of every peer's progress (nothing on a non-leader). */
export function status(env: InteractionEnv, idx: number): void {
  env.output.write(progressMapToString(env.node(idx).rawNode.status().progress));
}
