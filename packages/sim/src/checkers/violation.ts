/** What a checker reports: which property broke, when (virtual ms), and the evidence. */
export interface Violation {
  /** The property: 'election safety', 'log matching', 'leader completeness', ... */
  property: string;
  /** Virtual time at which it was detected. */
  time: number;
  message: string;
}
