import type { BatchRecord } from '../batches/batch-record.js';
import type { Limits } from '../config.js';
import { defaultPolicySettings, priorityWindow } from '../policy/index.js';
import type { ChunkMessage } from './chunk-message.js';
import type { ChunkRange } from './plan-chunks.js';

/** What a chunk message says about its batch, besides the chunk. */
export type MessageBase = Pick<ChunkMessage, 'tenant' | 'batchId' | 'key'>;

/** A batch record's part of its chunk messages. */
export const messageBase = (batch: Pick<BatchRecord, 'tenant' | 'id' | 'input_key'>): MessageBase => ({
  tenant: batch.tenant,
  batchId: batch.id,
  key: batch.input_key,
});

type Link = NonNullable<ChunkMessage['chain']>[number];

type Range = Pick<ChunkRange, 'chunk' | 'byteStart' | 'byteEnd' | 'lineStart' | 'lineEnd'>;

const link = (c: Range): Link => [c.chunk, c.byteStart, c.byteEnd, c.lineStart, c.lineEnd];

const message = (base: MessageBase, c: Range, chain: Link[] | undefined, attempt = 1): ChunkMessage => ({
  v: 1,
  tenant: base.tenant,
  batchId: base.batchId,
  chunk: c.chunk,
  key: base.key,
  byteStart: c.byteStart,
  byteEnd: c.byteEnd,
  lineStart: c.lineStart,
  lineEnd: c.lineEnd,
  attempt,
  ...(chain && chain.length > 0 ? { chain } : {}),
});

/** One chunk's message alone, nothing chained to it (an escalated copy, a re-sent chunk). */
export const chunkMessage = (
  batch: Pick<BatchRecord, 'tenant' | 'id' | 'input_key'>,
  c: Range,
  attempt = 1,
): ChunkMessage => message(messageBase(batch), c, undefined, attempt);

/**
 * The messages that start a batch's chunks with at most `window` of them on the queues at a time
 * (0: every chunk at once). The first `window` chunks, in chunk order, are sent now; the message
 * of the i-th carries the chunks i + window, i + 2·window, … and the completion of each chunk
 * sends the next one of its chain (`nextInChain`). A chunk completes exactly once, so each chunk
 * is sent once, and the batch has about `window` chunks queued or running until its end.
 *
 * Why: a queue is first in, first out for everyone. A 1,000,000-request batch that queued its
 * 500 chunks at once would put a 50-request batch created a second later behind all of them;
 * with a window the newcomer's chunk waits only for a worker's next free slot.
 */
export function windowedMessages(
  base: MessageBase,
  chunks: readonly Range[],
  window: number,
): ChunkMessage[] {
  const sorted = [...chunks].sort((a, b) => a.chunk - b.chunk);
  if (window <= 0 || sorted.length <= window) return sorted.map((c) => message(base, c, undefined));
  return sorted.slice(0, window).map((c, i) => {
    const chain: Link[] = [];
    for (let j = i + window; j < sorted.length; j += window) chain.push(link(sorted[j] as Range));
    return message(base, c, chain);
  });
}

/**
 * DISPATCH_WINDOW_CHUNKS for a pool of `tasks` workers holding `chunksPerTask` chunks each: half
 * of what they hold at once. One batch alone still gives every worker several chunks (each of
 * up to CHUNK_MAX_LINES requests, far more than an engine runs at once), and the other half of
 * the slots stays free, so a batch created meanwhile is received at once instead of waiting for
 * one of the first batch's chunks to end.
 */
export const dispatchWindow = (tasks: number, chunksPerTask: number): number =>
  Math.max(1, Math.floor((Math.max(1, tasks) * chunksPerTask) / 2));

/** The window of `batch`: DISPATCH_WINDOW_CHUNKS weighted by its priority (core/policy `priorityWindow`). */
export const batchWindow = (
  limits: Pick<Limits, 'DISPATCH_WINDOW_CHUNKS'>,
  batch: Pick<BatchRecord, 'priority'>,
): number => priorityWindow(limits.DISPATCH_WINDOW_CHUNKS, batch.priority ?? 'normal', defaultPolicySettings);

/** The message a chunk's completion sends: the first chunk of its chain, carrying the rest. */
export function nextInChain(msg: ChunkMessage): ChunkMessage | undefined {
  const [first, ...rest] = msg.chain ?? [];
  if (!first) return undefined;
  const [chunk, byteStart, byteEnd, lineStart, lineEnd] = first;
  return message(msg, { chunk, byteStart, byteEnd, lineStart, lineEnd }, rest);
}
