/**
 * The output buffer of an InteractionEnv, which is also the Logger of every node in it (etcd's
 * rafttest RedirectLogger): log lines and command output interleave in the order they happen,
 * as they do in etcd's scenario files. At level NONE nothing at all is written, neither log
 * lines nor command output; that is how scenarios keep their setup quiet.
 */
import { format } from 'node:util';
import type { Logger } from '../../src/logger.js';

/** Level names, lowest first; a logger at level i prints messages of level >= i. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'NONE'] as const;
const DEBUG = 0;
const INFO = 1;
const WARN = 2;
const ERROR = 3;
const NONE = LOG_LEVELS.length - 1;

export class InteractionOutput implements Logger {
  /** Index into LOG_LEVELS. */
  lvl = DEBUG;
  private buf = '';

  /** Whether the level is NONE, which silences everything written here. */
  quiet(): boolean {
    return this.lvl === NONE;
  }

  write(s: string): void {
    if (this.quiet()) return;
    this.buf += s;
  }

  get length(): number {
    return this.buf.length;
  }

  toString(): string {
    return this.buf;
  }

  reset(): void {
    this.buf = '';
  }

  /**
   * Runs `f`, then re-emits everything it wrote indented by two spaces, line by line (etcd's
   * InteractionEnv.withIndent).
   */
  withIndent<T>(f: () => T): T {
    const orig = this.buf;
    this.buf = '';
    let inner = '';
    try {
      return f();
    } finally {
      inner = this.buf;
      this.buf = orig;
      const lines = inner.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      for (const l of lines) this.buf += `  ${l}\n`;
    }
  }

  /** Sets the level by (case-insensitive) name; false when the name is not a level. */
  setLevel(name: string): boolean {
    const i = LOG_LEVELS.findIndex((l) => l.toLowerCase() === name.toLowerCase());
    if (i < 0) return false;
    this.lvl = i;
    return true;
  }

  private log(lvl: number, msg: string, args: unknown[]): void {
    if (this.lvl > lvl) return;
    const text = args.length > 0 ? format(msg, ...args) : msg;
    // Every line carries the level so that the conformance comparison recognizes (and drops)
    // all of a multi-line message, not only its first line.
    for (const line of text.split('\n')) this.write(`${LOG_LEVELS[lvl]} ${line}\n`);
  }

  debug(msg: string, ...args: unknown[]): void {
    this.log(DEBUG, msg, args);
  }
  info(msg: string, ...args: unknown[]): void {
    this.log(INFO, msg, args);
  }
  warn(msg: string, ...args: unknown[]): void {
    this.log(WARN, msg, args);
  }
  error(msg: string, ...args: unknown[]): void {
    this.log(ERROR, msg, args);
  }
}
