/**
 * Client traffic for the demo: a few workers calling Whoami back to back, each call recorded
 * with a sequence number taken when it started, so that the demo can ask "which instances
 * answered the calls started after this point".
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import type { EchoClient, WhoamiReply } from './echo-service.js';

/** One finished call. */
export interface CallRecord {
  /** The loop's sequence number when the call started. */
  readonly startSeq: number;
  /** The instance that answered, or undefined if the call failed. */
  readonly instance: string | undefined;
  /** The attempt that answered (above 1: the channel, or the loop, retried it). */
  readonly attempt: number;
  readonly error: string | undefined;
}

/** A running call loop. */
export interface CallLoop {
  readonly calls: readonly CallRecord[];
  /** The next call's sequence number: calls started after now have a startSeq at least this. */
  mark(): number;
  /** Instance -> calls it answered among those started at or after `fromSeq`. */
  answeredSince(fromSeq: number): Map<string, number>;
  /** Stops starting calls and resolves once those in flight are finished. */
  stop(): Promise<void>;
}

/** Options of startCallLoop. */
export interface CallLoopOptions {
  /** Calls in flight at once (default 3). */
  readonly concurrency?: number;
  /** Each call's deadline (default 10 s: a call may wait for an instance to connect). */
  readonly timeoutMs?: number;
  /** Pause between a worker's calls (default 10 ms), so the demo does not take a core. */
  readonly pauseMs?: number;
}

/** Starts calling `client.whoami` until `stop()`. */
export function startCallLoop(client: EchoClient, options: CallLoopOptions = {}): CallLoop {
  const calls: CallRecord[] = [];
  let seq = 0;
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      const startSeq = seq++;
      try {
        const { reply, callsMade } = await whoamiIdempotent(client, options.timeoutMs ?? 10_000);
        calls.push({ startSeq, instance: reply.instance, attempt: reply.attempt + callsMade - 1, error: undefined });
      } catch (err) {
        calls.push({ startSeq, instance: undefined, attempt: 0, error: err instanceof Error ? err.message : String(err) });
      }
      await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 10));
    }
  };
  const workers = Array.from({ length: options.concurrency ?? 3 }, () => worker());
  return {
    calls,
    mark: () => seq,
    answeredSince(fromSeq) {
      const counts = new Map<string, number>();
      for (const call of calls) {
        if (call.startSeq >= fromSeq && call.instance !== undefined) counts.set(call.instance, (counts.get(call.instance) ?? 0) + 1);
      }
      return counts;
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

const APPLICATION_RETRIES = 3;

/**
 * Whoami, called again when it fails with UNAVAILABLE. The channel's retry policy already re-sends
 * a call that failed before any answer; it does not once the instance started answering (it
 * received the response headers), since the instance may have acted on the call. An instance
 * killed in the middle of its answer leaves such a call. Whoami changes nothing, so sending it
 * again is safe; a call that changes something would need an idempotency key instead.
 */
async function whoamiIdempotent(client: EchoClient, timeoutMs: number): Promise<{ reply: WhoamiReply; callsMade: number }> {
  for (let callsMade = 1; ; callsMade++) {
    try {
      return { reply: await client.whoami({ caller: 'demo' }, timeoutMs), callsMade };
    } catch (err) {
      if ((err as Partial<ServiceError>).code !== status.UNAVAILABLE || callsMade > APPLICATION_RETRIES) throw err;
    }
  }
}
