/**
 * The member's log in etcd 3.4's formats, so that scripts and log collectors written for etcd
 * read it: `--logger capnslog` (etcd 3.4's default) writes
 * `2026-01-02 15:04:05.000000 I | etcdserver: message` (and the raft library's lines as Go's
 * standard logger prints them: `raft2026/01/02 15:04:05 INFO: message`), `--logger zap` writes one
 * JSON object a line, keys in zap's order
 * (`{"level":"info","ts":"2026-01-02T15:04:05.000Z","caller":"etcdserver/server.go:2069","msg":"...",...fields}`,
 * the time local with its offset as zap's ISO 8601 encoder writes it). The caller is etcd's
 * source position for the events etcd logs too (readiness, startup), else the package.
 * Lines go to stderr, as etcd's do.
 */
import type { Logger } from '@pontoon/raft';
import type { EtcdLogLevel } from '../cli/server-config.js';

/** A log line's structured fields (zap prints them as JSON keys; capnslog only in the text). */
export type LogFields = Readonly<Record<string, string | number | boolean | readonly string[]>>;

const LEVELS: Readonly<Record<EtcdLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3, panic: 4, fatal: 5 };
const CAPNSLOG_LETTER: Readonly<Record<EtcdLogLevel, string>> = { debug: 'D', info: 'I', warn: 'W', error: 'E', panic: 'C', fatal: 'C' };
const RAFT_LEVEL_WORD: Readonly<Record<EtcdLogLevel, string>> = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', panic: 'PANIC', fatal: 'FATAL' };

/** One event to log. */
export interface LogEvent {
  /** zap's message. */
  readonly msg: string;
  /** capnslog's text, when etcd words the event differently there. */
  readonly text?: string;
  readonly fields?: LogFields;
  /** zap's caller as etcd prints it for the same event (`embed/serve.go:145`); default: the package. */
  readonly caller?: string;
  /** capnslog's NOTICE level (`N`), which etcd uses for some events zap logs as info. */
  readonly notice?: boolean;
  /** Only in this format (etcd's two loggers do not log the same events). */
  readonly only?: 'zap' | 'capnslog';
}

/** One logger of the member; `pkg` is etcd's package name for capnslog (`etcdserver`, `embed`). */
export class EtcdLog {
  constructor(
    readonly format: 'zap' | 'capnslog',
    private readonly level: EtcdLogLevel,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  /**
   * Logs one event. capnslog prints `text` (etcd's capnslog wording, which differs from its
   * zap message for the same event); zap prints `msg` and the fields.
   */
  log(level: EtcdLogLevel, pkg: string, event: LogEvent): void {
    if (LEVELS[level] < LEVELS[this.level]) return;
    if (event.only !== undefined && event.only !== this.format) return;
    const now = new Date();
    if (this.format === 'zap') {
      this.write(`${JSON.stringify({ level, ts: zapTime(now), caller: event.caller ?? pkg, msg: event.msg, ...event.fields })}\n`);
      return;
    }
    const text = event.text ?? event.msg;
    if (pkg === 'raft') {
      // etcd's raft library logs through Go's standard logger, prefixed "raft".
      this.write(`raft${goLogTime(now)} ${RAFT_LEVEL_WORD[level]}: ${text}\n`);
      return;
    }
    this.write(`${capnslogTime(now)} ${event.notice === true ? 'N' : CAPNSLOG_LETTER[level]} | ${pkg}: ${text}\n`);
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

/** zap's ISO 8601 time (etcd 3.4's encoder): local time, `2006-01-02T15:04:05.000Z0700`. */
function zapTime(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset > 0 ? '+' : '-'}${p(Math.floor(Math.abs(offset) / 60))}${p(Math.abs(offset) % 60)}`;
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${zone}`
  );
}

/** Go's standard logger's time stamp: local time, `2006/01/02 15:04:05`. */
function goLogTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
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
