import { describe, expect, it } from 'vitest';
import type { ChunkRecord } from '../../../../core/chunks/chunk-record.js';
import { finalFileSpans } from '../../../../core/requests/result-spans.js';

const chunk = (n: number, over: Partial<ChunkRecord>): ChunkRecord => ({
  batch_key: 'acme#batch_1',
  chunk: n,
  byteStart: n * 100,
  byteEnd: (n + 1) * 100,
  lineStart: n * 10 + 1,
  lineEnd: (n + 1) * 10,
  requests: 10,
  status: 'done',
  ...over,
});

describe('finalFileSpans: a chunk lines in the final files', () => {
  it('adds up the part sizes of the done chunks before it, in chunk order', () => {
    const spans = finalFileSpans(
      [
        chunk(2, { completed: 10, failed: 0, output_bytes: 500, error_bytes: 0 }),
        chunk(0, { completed: 8, failed: 2, output_bytes: 400, error_bytes: 90 }),
        chunk(1, { completed: 7, failed: 3, output_bytes: 350, error_bytes: 120 }),
      ],
      false,
    );
    expect(spans.done.get(0)).toEqual({
      output: { start: 0, end: 400, skipLines: 0, lines: 8 },
      error: { start: 0, end: 90, skipLines: 0, lines: 2 },
    });
    expect(spans.done.get(1)).toEqual({
      output: { start: 400, end: 750, skipLines: 0, lines: 7 },
      error: { start: 90, end: 210, skipLines: 0, lines: 3 },
    });
    // No failures: no span in the error file.
    expect(spans.done.get(2)).toEqual({
      output: { start: 750, end: 1250, skipLines: 0, lines: 10 },
      error: undefined,
    });
    expect(spans.expired.size).toBe(0);
  });

  it('skips chunks not done (a cancelled batch writes nothing for them)', () => {
    const spans = finalFileSpans(
      [
        chunk(0, { completed: 10, failed: 0, output_bytes: 500 }),
        chunk(1, { status: 'pending' }),
        chunk(2, { completed: 10, failed: 0, output_bytes: 300 }),
      ],
      false,
    );
    expect(spans.done.has(1)).toBe(false);
    expect(spans.done.get(2)?.output).toEqual({ start: 500, end: 800, skipLines: 0, lines: 10 });
  });

  it('counts lines from the start of the file past a chunk recorded without sizes', () => {
    const spans = finalFileSpans(
      [
        chunk(0, { completed: 8, failed: 2, output_bytes: 400, error_bytes: 90 }),
        chunk(1, { completed: 7, failed: 3 }),
        chunk(2, { completed: 6, failed: 4, output_bytes: 300, error_bytes: 200 }),
      ],
      false,
    );
    expect(spans.done.get(1)).toEqual({
      output: { start: 0, end: undefined, skipLines: 8, lines: 7 },
      error: { start: 0, end: undefined, skipLines: 2, lines: 3 },
    });
    expect(spans.done.get(2)).toEqual({
      output: { start: 0, end: undefined, skipLines: 15, lines: 6 },
      error: { start: 0, end: undefined, skipLines: 5, lines: 4 },
    });
  });

  it('puts the expired lines of unfinished chunks after every done chunk error lines', () => {
    const spans = finalFileSpans(
      [
        chunk(0, { status: 'pending', requests: 10 }),
        chunk(1, { completed: 8, failed: 2, output_bytes: 400, error_bytes: 90 }),
        chunk(2, { status: 'pending', requests: 4 }),
        chunk(3, { status: 'pending', requests: 6 }),
      ],
      true,
    );
    expect(spans.expired.get(0)).toEqual({ start: 90, end: undefined, skipLines: 0, lines: 10 });
    expect(spans.expired.get(2)).toEqual({ start: 90, end: undefined, skipLines: 10, lines: 4 });
    expect(spans.expired.get(3)).toEqual({ start: 90, end: undefined, skipLines: 14, lines: 6 });
  });

  it('counts expired lines from the start when a size is missing', () => {
    const spans = finalFileSpans(
      [chunk(0, { completed: 8, failed: 2 }), chunk(1, { status: 'pending', requests: 10 })],
      true,
    );
    expect(spans.expired.get(1)).toEqual({ start: 0, end: undefined, skipLines: 2, lines: 10 });
  });
});
