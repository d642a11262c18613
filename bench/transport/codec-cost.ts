/**
 * What TcpTransport does per message that the bare socket does not, measured in this process with
 * no I/O: encode a batch (MessageEncoder, as the sender does once per write), and decode plus check
 * it (MessageDecoder and the core's validateMessage, as the receiver does). Set against the bare
 * socket's time per message, it says how far the ratio can go for small messages whatever the
 * sockets cost. The codec is internal to @pontoon/transport-tcp, hence the source import.
 */
import { validateMessage } from '@pontoon/raft/core';
import type { Message } from '@pontoon/raft';
import { MessageDecoder, MessageEncoder, writeBody } from '../../packages/transport-tcp/src/message-codec.js';
import { appendMessage, CHILD_ID, PARENT_ID } from './shared.js';

export interface CodecCost {
  payloadBytes: number;
  batch: number;
  /** Sender side: ns per message to encode a batch. */
  encodeNs: number;
  /** Receiver side: ns per message to decode a batch and validate each message. */
  decodeNs: number;
}

/** Median of `rounds` timings of `iterations` calls of `fn`, in ns per message. */
function perMessage(batch: number, iterations: number, rounds: number, fn: () => void): number {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / (iterations * batch));
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
}

export function measureCodecCost(payloadBytes: number, batch: number): CodecCost {
  const data = new Uint8Array(payloadBytes).fill(7);
  const messages: Message[] = Array.from({ length: batch }, (_, i) => appendMessage(PARENT_ID, CHILD_ID, 100 + i, data));
  const encoder = new MessageEncoder();
  const body = encoder.encode(messages);
  const bytes = new Uint8Array(body.length);
  writeBody(bytes, 0, body);
  const decoder = new MessageDecoder({ maxMessages: batch, maxEntries: 1 });
  const iterations = Math.max(200, Math.round(2_000_000 / (batch * (payloadBytes + 64))));
  let sink = 0;
  // The first round of each warms it up; the median drops it.
  const encodeNs = perMessage(batch, iterations, 7, () => {
    sink += encoder.encode(messages).length;
  });
  const decodeNs = perMessage(batch, iterations, 7, () => {
    const out: Message[] = [];
    decoder.decode([bytes], bytes.length, out);
    for (const m of out) validateMessage(m, Number.MAX_SAFE_INTEGER);
    sink += out.length;
  });
  if (sink === 0) throw new Error('codec produced nothing');
  return { payloadBytes, batch, encodeNs, decodeNs };
}
