/**
 * The IPC side of a client process: it sets its system's client up, says `ready`, runs the
 * levels the parent asks for and reports each run, then exits when the parent disconnects.
 */
import { runLoad } from './load.js';
import type { BeforeRunFn, FromClient, LoadRequest, WriteFn } from './load.js';

export interface LoadTarget {
  write: WriteFn;
  beforeLevel: BeforeRunFn;
  close(): Promise<void>;
}

function send(m: FromClient): void {
  process.send?.(m);
}

/** Runs the client process's side of the protocol against the target `setup` builds. */
export function serveLoad(setup: () => Promise<LoadTarget>): void {
  let target: LoadTarget | undefined;
  const fail = (err: unknown): void => {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  };
  process.on('message', (m: LoadRequest) => {
    if (target === undefined) return fail(new Error('run requested before the client was ready'));
    runLoad(m, target.write, target.beforeLevel, (run) => send({ type: 'run', run })).then(
      () => send({ type: 'done' }),
      fail,
    );
  });
  process.on('disconnect', () => {
    void (target?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  });
  setup().then((t) => {
    target = t;
    send({ type: 'ready' });
  }, fail);
}
