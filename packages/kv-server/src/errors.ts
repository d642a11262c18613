/**
 * The errors this package raises. Each extends PontoonError from @pontoon/raft and carries a
 * stable `code` and the data a caller needs to react.
 */
import { PontoonError } from '@pontoon/raft';

/**
 * The command line or the ETCD_* environment does not make a valid configuration. `message` is
 * the text etcd prints for the same mistake where etcd has one, so scripts and operators see
 * what they would see from etcd.
 */
export class CommandLineError extends PontoonError {
  /** The flag concerned (`--election-timeout`), or `undefined` when the error is not one flag's. */
  readonly flag: string | undefined;
  /**
   * The exit status etcd (or etcdctl, for `snapshot`) uses for this mistake: 2 for what Go's
   * flag package refuses (unknown flag, bad value), 1 for a configuration etcd's validation
   * refuses, 128 for etcdctl's bad arguments.
   */
  readonly exitCode: number;
  constructor(message: string, flag?: string, exitCode = 1) {
    super('ERR_COMMAND_LINE', message);
    this.flag = flag;
    this.exitCode = exitCode;
  }
}

/**
 * The reference etcd 3.4 binary (or etcdctl) that a differential test needs is not installed,
 * or is not version 3.4. The message says how to install it.
 */
export class EtcdNotInstalledError extends PontoonError {
  /** The binary looked for (`etcd` or `etcdctl`). */
  readonly binary: string;
  constructor(binary: string, detail: string) {
    super(
      'ERR_ETCD_NOT_INSTALLED',
      `reference ${binary} 3.4 not available: ${detail}. Install it with ` +
        '`sudo .ci/install-etcd.sh` (Debian: apt-get install -y etcd-server etcd-client), ' +
        `or point PONTOON_${binary.toUpperCase()}_BIN at a 3.4 binary`,
    );
    this.binary = binary;
  }
}

/** A reference etcd cluster did not start (a member exited or never became healthy). */
export class EtcdStartError extends PontoonError {
  /** The member's name and the tail of its log, for the test report. */
  readonly member: string;
  readonly logTail: string;
  constructor(member: string, detail: string, logTail: string) {
    super('ERR_ETCD_START', `reference etcd member ${member} did not start: ${detail}\n${logTail}`);
    this.member = member;
    this.logTail = logTail;
  }
}

/**
 * A URL or URL list (`--listen-client-urls`, `--initial-cluster`, ...) that etcd would refuse.
 * The message is etcd's (`URL must not contain a path: http://a:1/x`).
 */
export class InvalidUrlError extends PontoonError {
  /** The offending text as given. */
  readonly input: string;
  constructor(input: string, message: string) {
    super('ERR_INVALID_URL', message);
    this.input = input;
  }
}

/** Member ids that etcd would refuse to form a cluster from (two members with one id, id 0). */
export class MemberIdError extends PontoonError {
  constructor(message: string) {
    super('ERR_MEMBER_ID', message);
  }
}

/**
 * A data directory that belongs to another member or another cluster than the flags describe.
 * etcd 3.4 would start on it anyway (it trusts the ids in its WAL and republishes itself under
 * the new name); pontoon-kv refuses, because running one member's data under another name
 * or token is an operator's mistake that splits or corrupts a cluster.
 */
export class DataDirMismatchError extends PontoonError {
  readonly dataDir: string;
  /** What differs: the member's name or the cluster token. */
  readonly mismatch: 'member' | 'cluster';
  constructor(dataDir: string, mismatch: 'member' | 'cluster', message: string) {
    super('ERR_DATA_DIR_MISMATCH', message);
    this.dataDir = dataDir;
    this.mismatch = mismatch;
  }
}

/** A snapshot file that cannot be read, verified or restored; `message` says which and why. */
export class SnapshotFileError extends PontoonError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('ERR_SNAPSHOT_FILE', message);
    this.file = file;
  }
}
