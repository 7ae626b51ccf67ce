import { afterEach, describe, expect, it, vi } from 'vitest';
import { isBlank, type SplitItem, splitLineBatches, splitLines } from '../../../../core/lines/split-lines.js';
import { asUint8Arrays, collect, cutAt, inPieces } from '../../support/streams.js';

/** A comparable view of an item: offsets plus the line's text, or `tooLong`. */
const view = (item: SplitItem) =>
  'tooLong' in item
    ? { number: item.number, start: item.start, end: item.end, tooLong: true }
    : { number: item.number, start: item.start, end: item.end, text: item.bytes.toString('utf8') };

const split = async (source: AsyncIterable<Uint8Array>, opts?: Parameters<typeof splitLines>[1]) =>
  (await collect(splitLines(source, opts))).map(view);

// 'héllo' is 6 bytes (é is 2), '€' is 3 bytes, '𝄞' is 4 bytes.
const SAMPLE = Buffer.from('héllo\r\n€\n\n𝄞 clef\nlast', 'utf8');
const SAMPLE_LINES = [
  { number: 1, start: 0, end: 8, text: 'héllo' },
  { number: 2, start: 8, end: 12, text: '€' },
  { number: 3, start: 12, end: 13, text: '' },
  { number: 4, start: 13, end: 23, text: '𝄞 clef' },
  { number: 5, start: 23, end: 27, text: 'last' },
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('splitLines', () => {
  it('reports exact byte offsets for multi-byte UTF-8, CRLF, empty lines and a last line without newline', async () => {
    expect(SAMPLE.length).toBe(27);
    expect(await split(cutAt(SAMPLE, []))).toEqual(SAMPLE_LINES);
  });

  it('gives the same lines whatever single position the stream is cut at (inside multi-byte characters and CRLF too)', async () => {
    for (let p = 1; p < SAMPLE.length; p++) {
      expect(await split(cutAt(SAMPLE, [p])), `cut at ${p}`).toEqual(SAMPLE_LINES);
    }
  });

  it('gives the same lines whatever pair of positions the stream is cut at', async () => {
    for (let p = 1; p < SAMPLE.length; p++) {
      for (let q = p + 1; q < SAMPLE.length; q++) {
        expect(await split(cutAt(SAMPLE, [p, q])), `cuts at ${p},${q}`).toEqual(SAMPLE_LINES);
      }
    }
  });

  it('gives, in batches, the lines each piece of the stream completes, the same lines in the same order', async () => {
    // Cut after 'héllo\r' (no line ends), then after '€\n\n' and inside the clef.
    const batches = (await collect(splitLineBatches(cutAt(SAMPLE, [7, 13, 16])))).map((b) => b.map(view));
    expect(batches).toEqual([
      [SAMPLE_LINES[0], SAMPLE_LINES[1], SAMPLE_LINES[2]],
      [SAMPLE_LINES[3]],
      [SAMPLE_LINES[4]],
    ]);
  });

  it('gives the same lines when fed one byte at a time', async () => {
    expect(await split(inPieces(SAMPLE, 1))).toEqual(SAMPLE_LINES);
  });

  it('accepts plain Uint8Array views with a non-zero byteOffset and empty pieces', async () => {
    const pieces = [SAMPLE.subarray(0, 3), Buffer.alloc(0), SAMPLE.subarray(3, 9), SAMPLE.subarray(9)];
    expect(await split(asUint8Arrays(pieces))).toEqual(SAMPLE_LINES);
  });

  it('returns line bytes that equal the file slice [start, end) without its terminator', async () => {
    const items = await collect(splitLines(inPieces(SAMPLE, 5)));
    for (const item of items) {
      if ('tooLong' in item) throw new Error('unexpected tooLong');
      const slice = SAMPLE.subarray(item.start, item.end).toString('utf8');
      expect(slice.replace(/\r?\n$/, '')).toBe(item.bytes.toString('utf8'));
    }
    // Lines tile the file: each starts where the previous ended, the last ends at the file's end.
    for (let i = 1; i < items.length; i++) expect(items[i]?.start).toBe(items[i - 1]?.end);
    expect(items.at(-1)?.end).toBe(SAMPLE.length);
  });

  it('does not emit an extra empty line after a final newline', async () => {
    expect(await split(cutAt(Buffer.from('a\nb\n'), [2]))).toEqual([
      { number: 1, start: 0, end: 2, text: 'a' },
      { number: 2, start: 2, end: 4, text: 'b' },
    ]);
  });

  it('emits every empty line, each one byte long', async () => {
    expect(await split(cutAt(Buffer.from('\n\n\n'), [1]))).toEqual([
      { number: 1, start: 0, end: 1, text: '' },
      { number: 2, start: 1, end: 2, text: '' },
      { number: 3, start: 2, end: 3, text: '' },
    ]);
  });

  it('emits nothing for an empty stream', async () => {
    expect(await split(cutAt(Buffer.alloc(0), []))).toEqual([]);
  });

  it('strips only a CR that precedes the LF, and keeps a CR inside a line', async () => {
    const data = Buffer.from('a\rb\r\nc\r\r\n');
    expect(await split(cutAt(data, [4]))).toEqual([
      { number: 1, start: 0, end: 5, text: 'a\rb' },
      { number: 2, start: 5, end: 9, text: 'c\r' },
    ]);
  });

  it('strips the CR of a last line that ends in CR without LF', async () => {
    expect(await split(cutAt(Buffer.from('x\ny\r'), []))).toEqual([
      { number: 1, start: 0, end: 2, text: 'x' },
      { number: 2, start: 2, end: 4, text: 'y' },
    ]);
  });

  it('offsets everything by startOffset and numbers lines from firstLineNumber (ranged reads)', async () => {
    const items = await split(inPieces(SAMPLE, 4), { startOffset: 1_000, firstLineNumber: 41 });
    expect(items).toEqual(
      SAMPLE_LINES.map((l) => ({ ...l, number: l.number + 40, start: l.start + 1_000, end: l.end + 1_000 })),
    );
  });

  it('reproduces the lines of a byte range read from the middle of a file', async () => {
    const file = Buffer.from('one\ntwo€\r\nthree\nfour\n');
    // Lines 2..3 occupy bytes [4, 18): 'two€\r\n' is 8 bytes, 'three\n' 6.
    const range = file.subarray(4, 18);
    expect(await split(inPieces(range, 3), { startOffset: 4, firstLineNumber: 2 })).toEqual([
      { number: 2, start: 4, end: 12, text: 'two€' },
      { number: 3, start: 12, end: 18, text: 'three' },
    ]);
  });

  describe('maxLineBytes', () => {
    it('accepts a line of exactly maxLineBytes and reports one byte more as tooLong', async () => {
      const data = Buffer.from('12345\n123456\n');
      expect(await split(inPieces(data, 2), { maxLineBytes: 5 })).toEqual([
        { number: 1, start: 0, end: 6, text: '12345' },
        { number: 2, start: 6, end: 13, tooLong: true },
      ]);
    });

    it('counts bytes, not characters', async () => {
      // Three characters, six bytes.
      const data = Buffer.from('ééé\nab\n');
      expect(await split(inPieces(data, 1), { maxLineBytes: 5 })).toEqual([
        { number: 1, start: 0, end: 7, tooLong: true },
        { number: 2, start: 7, end: 10, text: 'ab' },
      ]);
    });

    it('carries no bytes on a tooLong item', async () => {
      const [item] = await collect(splitLines(cutAt(Buffer.from('abcdef\n'), []), { maxLineBytes: 3 }));
      expect(item).toBeDefined();
      expect(item && 'tooLong' in item).toBe(true);
      expect(item && 'bytes' in item).toBe(false);
    });

    it('continues with exact offsets and numbers after a too-long line, across chunk cuts', async () => {
      const data = Buffer.from('ok\nxxxxxxxxxxxxxxxxxxxx\r\nnext€\n\ntail');
      const expected = [
        { number: 1, start: 0, end: 3, text: 'ok' },
        { number: 2, start: 3, end: 25, tooLong: true },
        { number: 3, start: 25, end: 33, text: 'next€' },
        { number: 4, start: 33, end: 34, text: '' },
        { number: 5, start: 34, end: 38, text: 'tail' },
      ];
      for (let p = 1; p < data.length; p++) {
        expect(await split(cutAt(data, [p, p + 7]), { maxLineBytes: 8 }), `cut at ${p}`).toEqual(expected);
      }
    });

    it('reports a too-long last line that has no newline', async () => {
      expect(
        await split(cutAt(Buffer.from('a\nbbbbbbbbbb'), [5]), { maxLineBytes: 4, startOffset: 10 }),
      ).toEqual([
        { number: 1, start: 10, end: 12, text: 'a' },
        { number: 2, start: 12, end: 22, tooLong: true },
      ]);
    });

    it('does not concatenate the bytes of a too-long line, however long it gets', async () => {
      const concat = vi.spyOn(Buffer, 'concat');
      const piece = Buffer.alloc(64 * 1024, 0x61);
      const hugeLineBytes = 16 * 1024 * 1024;
      async function* source() {
        yield Buffer.from('{}\n');
        for (let sent = 0; sent < hugeLineBytes; sent += piece.length) yield piece;
        yield Buffer.from('\nafter\n');
      }
      const items = await split(source(), { maxLineBytes: 1024 });
      expect(items).toEqual([
        { number: 1, start: 0, end: 3, text: '{}' },
        { number: 2, start: 3, end: 3 + hugeLineBytes + 1, tooLong: true },
        { number: 3, start: 4 + hugeLineBytes, end: 4 + hugeLineBytes + 6, text: 'after' },
      ]);
      const largest = Math.max(0, ...concat.mock.calls.map(([list]) => sum(list)));
      expect(largest).toBeLessThanOrEqual(1024);
    });

    it('judges a CRLF line by its bytes without the terminator, as it judges the same line ending in LF', async () => {
      // The same 5-byte line, once with LF and once with CRLF: both are within a 5-byte limit.
      expect(await split(cutAt(Buffer.from('12345\n'), []), { maxLineBytes: 5 })).toEqual([
        { number: 1, start: 0, end: 6, text: '12345' },
      ]);
      expect(await split(cutAt(Buffer.from('12345\r\n'), []), { maxLineBytes: 5 })).toEqual([
        { number: 1, start: 0, end: 7, text: '12345' },
      ]);
    });
  });
});

const sum = (list: readonly Uint8Array[]): number => list.reduce((n, b) => n + b.length, 0);

describe('splitLines and a UTF-8 byte order mark', () => {
  const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
  const withBom = Buffer.concat([BOM, Buffer.from('{"a":1}\r\n{"b":2}\n')]);
  const expected = [
    { number: 1, start: 0, end: 12, text: '{"a":1}' },
    { number: 2, start: 12, end: 20, text: '{"b":2}' },
  ];

  it("leaves a BOM at the file's first byte out of line 1's bytes, keeping it inside line 1's byte range", async () => {
    expect(await split(cutAt(withBom, []))).toEqual(expected);
  });

  it('strips it whatever position the stream is cut at, inside the BOM too', async () => {
    for (let p = 1; p < withBom.length; p++)
      expect(await split(cutAt(withBom, [p])), `cut at ${p}`).toEqual(expected);
    expect(await split(inPieces(withBom, 1))).toEqual(expected);
  });

  it('strips it for a ranged read that starts at byte 0 (a first chunk read by the worker or the finalizer)', async () => {
    expect(await split(cutAt(withBom.subarray(0, 12), []), { startOffset: 0, firstLineNumber: 1 })).toEqual([
      expected[0],
    ]);
  });

  it('keeps BOM bytes that are not at the start of the file: they are the line’s content', async () => {
    const later = Buffer.concat([Buffer.from('x\n'), BOM, Buffer.from('y\n')]);
    const [, second] = await collect(splitLines(cutAt(later, [])));
    expect(second && 'bytes' in second ? [...second.bytes] : []).toEqual([0xef, 0xbb, 0xbf, 0x79]);
    // A ranged read from the middle of a file starts past byte 0: nothing is stripped there either.
    const ranged = await collect(splitLines(cutAt(withBom, []), { startOffset: 100 }));
    expect(ranged[0] && 'bytes' in ranged[0] ? ranged[0].bytes.subarray(0, 3) : undefined).toEqual(BOM);
  });

  it('does not count the BOM against maxLineBytes', async () => {
    const line = Buffer.concat([BOM, Buffer.from('x'.repeat(10)), Buffer.from('\r\n')]);
    expect(await split(inPieces(line, 4), { maxLineBytes: 10 })).toEqual([
      { number: 1, start: 0, end: 15, text: 'x'.repeat(10) },
    ]);
    expect(await split(cutAt(line, []), { maxLineBytes: 9 })).toEqual([
      { number: 1, start: 0, end: 15, tooLong: true },
    ]);
  });

  it('makes a file of only a BOM one blank line', async () => {
    const items = await collect(splitLines(cutAt(BOM, [])));
    expect(items).toHaveLength(1);
    expect(items[0] && 'bytes' in items[0] && isBlank(items[0].bytes)).toBe(true);
  });
});

describe('isBlank', () => {
  it.each([
    ['', true],
    ['   ', true],
    ['\t \r', true],
    [' {} ', false],
    ['x', false],
  ])('isBlank(%j) is %s', (text, expected) => {
    expect(isBlank(Buffer.from(text))).toBe(expected);
  });
});
