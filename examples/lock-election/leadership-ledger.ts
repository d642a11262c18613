/**
 * A record of an election as candidates and an observer saw it, checked as it is written: a
 * candidate may announce that it leads only while it is alive and no other live candidate
 * leads. The observer's leaders (etcd's Observe) are kept in order for comparison with the order
 * in which candidates announced themselves.
 */

export class LeadershipLedger {
  /** Candidates in the order they announced they lead. */
  readonly elected: string[] = [];
  /** Leaders in the order the observer reported them (repeats of the same leader folded). */
  readonly observed: string[] = [];
  /** Candidates whose campaign failed on its own, with the reason (a lease lost under load). */
  readonly losses: string[] = [];
  /** One line per broken rule (there must be none). */
  readonly violations: string[] = [];
  private readonly live = new Set<string>();
  private leading: string | undefined;
  private readonly listeners = new Set<() => void>();

  /** The live candidate that leads by its own account, if any. */
  get leader(): string | undefined {
    return this.leading;
  }

  /** The observer's latest leader. */
  get observedLeader(): string | undefined {
    return this.observed.at(-1);
  }

  joined(name: string): void {
    this.live.add(name);
  }

  announcedElected(name: string): void {
    if (!this.live.has(name)) this.violations.push(`${name} announced it leads after it died`);
    if (this.leading !== undefined && this.leading !== name) this.violations.push(`${name} announced it leads while ${this.leading} still leads`);
    this.leading = name;
    this.elected.push(name);
    this.changed();
  }

  died(name: string): void {
    this.live.delete(name);
    if (this.leading === name) this.leading = undefined;
    this.changed();
  }

  /** A candidate's campaign failed without a kill: it no longer leads or campaigns. */
  lost(name: string, reason: string): void {
    this.losses.push(`${name}: ${reason}`);
    this.died(name);
  }

  /** An observer's report: the leader's value, or undefined when nobody campaigns. */
  observedValue(value: string | undefined): void {
    if (value !== undefined && value !== this.observedLeader) this.observed.push(value);
    this.changed();
  }

  /** Resolves once `condition` holds; rejects after `timeoutMs` with `what` and the record. */
  until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${what}: not within ${timeoutMs} ms (elected ${this.elected.join(',')}, observed ${this.observed.join(',')}, lost ${this.losses.join('; ')})`));
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
