/**
 * Runs tasks one after another, in the order they were pushed. A task that returns a promise
 * holds the queue until it settles; synchronous tasks run at once (in the caller's stack when
 * the queue is idle), so a synchronous state machine costs no extra turn of the event loop.
 */
export class SerialQueue {
  private readonly tasks: Array<() => void | Promise<void>> = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];

  /** `onError` receives what a task threw or rejected with; the queue goes on with the next. */
  constructor(private readonly onError: (err: unknown) => void) {}

  push(task: () => void | Promise<void>): void {
    this.tasks.push(task);
    if (!this.running) this.drain();
  }

  /** Whether no task is running or waiting. */
  isIdle(): boolean {
    return !this.running && this.tasks.length === 0;
  }

  /** Resolves once every task pushed so far (and any they push) has finished. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private drain(): void {
    this.running = true;
    while (this.tasks.length > 0) {
      const task = this.tasks.shift()!;
      let result: void | Promise<void>;
      try {
        result = task();
      } catch (err) {
        this.onError(err);
        continue;
      }
      if (result instanceof Promise) {
        result.then(
          () => this.drain(),
          (err: unknown) => {
            this.onError(err);
            this.drain();
          },
        );
        return;
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
