import { PontoonError } from '@pontoon/raft';

/** A history the checker cannot interpret: an operation returns before its call, or a time is not a number. */
export class InvalidHistoryError extends PontoonError {
  /** The index of the offending operation in the history as given. */
  readonly operationIndex: number;
  constructor(operationIndex: number, message: string) {
    super('ERR_INVALID_HISTORY', `invalid history: operation ${operationIndex}: ${message}`);
    this.operationIndex = operationIndex;
  }
}
