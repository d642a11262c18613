import { looksLikeEdnLines } from './edn-kv.js';
import { looksLikeJepsenLog } from './jepsen-log.js';

/** The history file formats the parsers read. */
export type HistoryFormat = 'jepsen-log' | 'edn-lines';

/** Guesses a history file's format from its content, or undefined when it is neither. */
export function detectHistoryFormat(text: string): HistoryFormat | undefined {
  if (looksLikeEdnLines(text)) return 'edn-lines';
  if (looksLikeJepsenLog(text)) return 'jepsen-log';
  return undefined;
}
