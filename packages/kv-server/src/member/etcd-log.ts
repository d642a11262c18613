/**
 * The member's log in etcd 3.4's formats, so that scripts and log collectors written for etcd
 * read it: `--logger capnslog` (etcd 3.4's default) writes
 * `2026-01-02 15:04:05.000000 I | etcdserver: message`, `--logger zap` writes one JSON object a
 * line (`{"level":"info","ts":"...","caller":"etcdserver/server.go","msg":"...",...fields}`).
 * Lines go to stderr, as etcd's do.
 */
import type { Logger } from '@pontoon/raft';
import type { EtcdLogLevel } from '../cli/server-config.js';

/** A log line's structured fields (zap prints them as JSON keys; capnslog only in the text). */
export type LogFields = Readonly<Record<string, string | number | boolean | readonly string[]>>;

const LEVELS: Readonly<Record<EtcdLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, panic: 4, fatal: 5 };
const CAPNSLOG_LETTER: Readonly<Record<EtcdLogLevel, string>> = { debug: 'D', info: 'I', warn: 'W', error: 'E', panic: 'C', fatal: 'C' };

/** One logger of the member; `pkg` is etcd's package name for capnslog (`etcdserver`, `embed`). */
export class EtcdLog {
  constructor(
    private readonly format: 'zap' | 'capnslog',
    private readonly level: EtcdLogLevel,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  /**
   * Logs one event. capnslog prints `text` (etcd's capnslog wording, which differs from its
   * zap message for the same event); zap prints `msg` and the fields.
   */
  log(level: EtcdLogLevel, pkg: string, event: { msg: string; text?: string; fields?: LogFields }): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    const now = new Date();
    if (this.format === 'zap') {
      this.write(`${JSON.stringify({ level, ts: now.toISOString(), caller: pkg, msg: event.msg, ...event.fields })}\n`);
      return;
    }
    this.write(`${capnslogTime(now)} ${CAPNSLOG_LETTER[level]} | ${pkg}: ${event.text ?? event.msg}\n`);
  }

  info(pkg: string, msg: string, fields?: LogFields): void {
    this.log('info', pkg, { msg, ...(fields === undefined ? {} : { fields }) });
  }

  warn(pkg: string, msg: string, fields?: LogFields): void {
    this.log('warn', pkg, { msg, ...(fields === undefined ? {} : { fields }) });
  }

  error(pkg: string, msg: string, fields?: LogFields): void {
    this.log('error', pkg, { msg, ...(fields === undefined ? {} : { fields }) });
  }

  /** A Logger for Pontoon's libraries (RaftNode, the transport), under etcd package `pkg`. */
  logger(pkg: string): Logger {
    const line = (level: EtcdLogLevel) => (msg: string, ...args: unknown[]) =>
      this.log(level, pkg, { msg: args.length === 0 ? msg : `${msg} ${args.map(argText).join(' ')}` });
    return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
  }
}

/** capnslog's time stamp: local time, `2006-01-02 15:04:05.000000`. */
function capnslogTime(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`
  );
}

function argText(a: unknown): string {
  if (a instanceof Error) return a.message;
  if (typeof a === 'string') return a;
  try {
    return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return String(a);
  }
}
