import { PontoonError } from '@pontoon/raft';

/** A history file that cannot be read: `line` is 1-based (0 when it concerns the whole file). */
export class HistoryParseError extends PontoonError {
  readonly line: number;
  constructor(line: number, message: string) {
    super('ERR_HISTORY_PARSE', line > 0 ? `line ${line}: ${message}` : message);
    this.line = line;
  }
}
