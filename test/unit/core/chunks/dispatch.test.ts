import { describe, expect, it } from 'vitest';
import { type ChunkMessage, parseChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { dispatchWindow, nextInChain, windowedMessages } from '../../../../core/chunks/dispatch.js';

const base = { tenant: 't', batchId: 'batch_1', key: 'in/t/file' };
/** Chunk i covers lines 10i+1 … 10i+10 and bytes 100i … 100i+100. */
const ranges = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    chunk: i,
    byteStart: 100 * i,
    byteEnd: 100 * (i + 1),
    lineStart: 10 * i + 1,
    lineEnd: 10 * (i + 1),
  }));

/** Every message that would ever be sent: the first ones, then each completion's next, in turn. */
function allSent(first: ChunkMessage[]): ChunkMessage[] {
  const sent = [...first];
  for (let i = 0; i < sent.length; i++) {
    const next = nextInChain(sent[i] as ChunkMessage);
    if (next) sent.push(next);
  }
  return sent;
}

describe('windowedMessages and nextInChain', () => {
  it('sends the first `window` chunks now, each carrying every window-th chunk after it', () => {
    const first = windowedMessages(base, ranges(7), 3);
    expect(first.map((m) => m.chunk)).toEqual([0, 1, 2]);
    expect(first.map((m) => (m.chain ?? []).map(([c]) => c))).toEqual([[3, 6], [4], [5]]);
    expect(first[1]).toEqual({
      v: 1,
      ...base,
      chunk: 1,
      byteStart: 100,
      byteEnd: 200,
      lineStart: 11,
      lineEnd: 20,
      attempt: 1,
      chain: [[4, 400, 500, 41, 50]],
    });
  });

  it('sends every chunk exactly once, with its own range, whatever the window', () => {
    for (const n of [1, 2, 5, 16, 17, 100]) {
      for (const window of [0, 1, 2, 3, 16, 200]) {
        const sent = allSent(windowedMessages(base, ranges(n), window));
        expect(
          sent.map((m) => m.chunk).sort((a, b) => a - b),
          `n=${n} window=${window}`,
        ).toEqual(ranges(n).map((r) => r.chunk));
        for (const m of sent) {
          expect(m.byteStart).toBe(100 * m.chunk);
          expect(m.lineEnd).toBe(10 * (m.chunk + 1));
          expect(m.attempt).toBe(1);
          // Each message survives the worker's parse (the chain is part of the contract).
          expect(parseChunkMessage(JSON.stringify(m))).toEqual(m);
        }
      }
    }
  });

  it('sends all chunks at once, without chains, for a window of 0 or one at least as large as the batch', () => {
    for (const window of [0, 4, 10]) {
      const first = windowedMessages(base, ranges(4), window);
      expect(first.map((m) => m.chunk)).toEqual([0, 1, 2, 3]);
      expect(first.every((m) => m.chain === undefined)).toBe(true);
    }
  });

  it('orders by chunk number the pending chunks it is given, whatever their order', () => {
    const shuffled = [...ranges(5)].reverse().filter((r) => r.chunk !== 2);
    const first = windowedMessages(base, shuffled, 2);
    expect(first.map((m) => [m.chunk, (m.chain ?? []).map(([c]) => c)])).toEqual([
      [0, [3]],
      [1, [4]],
    ]);
  });

  it('says nothing follows a message without a chain', () => {
    expect(nextInChain(windowedMessages(base, ranges(1), 1)[0] as ChunkMessage)).toBeUndefined();
  });
});

describe('dispatchWindow', () => {
  it.each([
    [1, 16, 8],
    [2, 16, 16],
    [10, 16, 80],
    [0, 16, 8],
    [1, 1, 1],
    [3, 5, 7],
  ])('is half of what %i workers holding %i chunks each hold at once: %i', (tasks, perTask, expected) => {
    expect(dispatchWindow(tasks, perTask)).toBe(expected);
  });
});
