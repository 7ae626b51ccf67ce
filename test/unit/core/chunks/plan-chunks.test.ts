import { describe, expect, it } from 'vitest';
import {
  ChunkPlanner,
  type ChunkRange,
  type PlanRules,
  planChunks,
  tailSizes,
} from '../../../../core/chunks/plan-chunks.js';
import { splitLines } from '../../../../core/lines/split-lines.js';
import type { BatchError } from '../../../../core/openai/schemas.js';
import { cutAt, inPieces } from '../../support/streams.js';

const ENDPOINT = '/v1/chat/completions';

const limits = (overrides: Partial<PlanRules['limits']> = {}): PlanRules['limits'] => ({
  MAX_REQUESTS_PER_BATCH: 50_000,
  MAX_LINE_BYTES: 10 * 1024 * 1024,
  CHUNK_MAX_LINES: 2_000,
  CHUNK_MAX_BYTES: 8 * 1024 * 1024,
  MAX_REPORTED_LINE_ERRORS: 100,
  MODELS: [],
  ...overrides,
});

const rules = (overrides: Partial<PlanRules['limits']> = {}): PlanRules => ({
  endpoint: ENDPOINT,
  limits: limits(overrides),
});

/** One request line; ids of equal length give lines of equal length. */
const req = (id: string, content = 'hello', model = 'llama-3') =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: ENDPOINT,
    body: { model, messages: [{ role: 'user', content }] },
  });

const fileOf = (lines: readonly string[], eol = '\n', trailing = true) =>
  Buffer.from(lines.join(eol) + (trailing ? eol : ''), 'utf8');

const id = (n: number) => `r${String(n).padStart(4, '0')}`;

/** The same bytes cut in several awkward ways: whole, byte by byte, odd sizes, at every multi-byte char. */
function awkwardSources(file: Buffer): [string, () => AsyncIterable<Uint8Array>][] {
  const nonAscii: number[] = [];
  for (let i = 0; i < file.length; i++) if ((file[i] ?? 0) >= 0x80) nonAscii.push(i);
  return [
    ['whole', () => cutAt(file, [])],
    ['1-byte pieces', () => inPieces(file, 1)],
    ['7-byte pieces', () => inPieces(file, 7)],
    ['13-byte pieces', () => inPieces(file, 13)],
    ['inside every multi-byte character', () => cutAt(file, nonAscii)],
  ];
}

/** The file's lines by number (1-based), without terminators. */
const linesOf = (file: Buffer): string[] => {
  const parts = file.toString('utf8').split('\n');
  if (parts.at(-1) === '') parts.pop();
  return parts.map((l) => l.replace(/\r$/, ''));
};

/**
 * Checks that each chunk's byte range, sliced from the file, is exactly its lines: the worker
 * reads the range with a ranged GET and must find lineStart..lineEnd, no more, no less.
 */
function expectRangesReproduceLines(file: Buffer, chunks: readonly ChunkRange[]) {
  const all = linesOf(file);
  let previousEnd = 0;
  let previousLine = 0;
  chunks.forEach((c, i) => {
    expect(c.chunk).toBe(i);
    expect(c.byteStart).toBeGreaterThanOrEqual(previousEnd);
    expect(c.lineStart).toBeGreaterThan(previousLine);
    const sliced = linesOf(file.subarray(c.byteStart, c.byteEnd));
    expect(sliced).toEqual(all.slice(c.lineStart - 1, c.lineEnd));
    expect(sliced.filter((l) => l.trim().length > 0)).toHaveLength(c.requests);
    // A chunk starts and ends on a request, never on a blank line.
    expect(sliced[0]?.trim()).not.toBe('');
    expect(sliced.at(-1)?.trim()).not.toBe('');
    previousEnd = c.byteEnd;
    previousLine = c.lineEnd;
  });
}

async function planOk(source: AsyncIterable<Uint8Array>, r: PlanRules) {
  const result = await planChunks(source, r);
  if (!result.ok) throw new Error(`expected a plan, got errors ${JSON.stringify(result.errors)}`);
  return result;
}

async function planErrors(source: AsyncIterable<Uint8Array>, r: PlanRules): Promise<BatchError[]> {
  const result = await planChunks(source, r);
  if (result.ok) throw new Error(`expected errors, got a plan of ${result.chunks.length} chunks`);
  return result.errors;
}

describe('planChunks', () => {
  describe('chunk boundaries', () => {
    it('cuts chunks of CHUNK_MAX_LINES requests, whatever the stream pieces', async () => {
      const lines = Array.from({ length: 10 }, (_, i) => req(id(i + 1), `naïve €𝄞 ${i}`));
      const file = fileOf(lines);
      for (const [name, source] of awkwardSources(file)) {
        const plan = await planOk(source(), rules({ CHUNK_MAX_LINES: 3 }));
        expect(
          plan.chunks.map((c) => [c.lineStart, c.lineEnd, c.requests]),
          name,
        ).toEqual([
          [1, 3, 3],
          [4, 6, 3],
          [7, 9, 3],
          [10, 10, 1],
        ]);
        expect(plan.total).toBe(10);
        expect(plan.chunks[0]?.byteStart).toBe(0);
        expect(plan.chunks.at(-1)?.byteEnd).toBe(file.length);
        expectRangesReproduceLines(file, plan.chunks);
      }
    });

    it('makes byte ranges that tile the file when there are no blank lines', async () => {
      const file = fileOf(Array.from({ length: 7 }, (_, i) => req(id(i), 'x'.repeat(i * 3))));
      const plan = await planOk(inPieces(file, 5), rules({ CHUNK_MAX_LINES: 2 }));
      for (let i = 1; i < plan.chunks.length; i++) {
        expect(plan.chunks[i]?.byteStart).toBe(plan.chunks[i - 1]?.byteEnd);
      }
      expectRangesReproduceLines(file, plan.chunks);
    });

    it('fills a chunk up to exactly CHUNK_MAX_BYTES and starts a new one a byte beyond', async () => {
      const lines = Array.from({ length: 5 }, (_, i) => req(id(i)));
      const lineBytes = Buffer.byteLength(`${lines[0]}\n`);
      const file = fileOf(lines);

      const exact = await planOk(cutAt(file, [3, 50]), rules({ CHUNK_MAX_BYTES: 2 * lineBytes }));
      expect(exact.chunks.map((c) => c.requests)).toEqual([2, 2, 1]);
      expect(exact.chunks.map((c) => c.byteEnd - c.byteStart)).toEqual([
        2 * lineBytes,
        2 * lineBytes,
        lineBytes,
      ]);
      expectRangesReproduceLines(file, exact.chunks);

      const oneShort = await planOk(cutAt(file, [3, 50]), rules({ CHUNK_MAX_BYTES: 2 * lineBytes - 1 }));
      expect(oneShort.chunks.map((c) => c.requests)).toEqual([1, 1, 1, 1, 1]);
      expectRangesReproduceLines(file, oneShort.chunks);
    });

    it('gives a single line larger than CHUNK_MAX_BYTES a chunk of its own', async () => {
      const lines = [req(id(1)), req(id(2), 'y'.repeat(500)), req(id(3))];
      const file = fileOf(lines);
      const plan = await planOk(inPieces(file, 64), rules({ CHUNK_MAX_BYTES: 300 }));
      expect(plan.chunks.map((c) => [c.lineStart, c.lineEnd])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      expectRangesReproduceLines(file, plan.chunks);
    });

    it('applies whichever of CHUNK_MAX_LINES and CHUNK_MAX_BYTES is reached first', async () => {
      const lines = Array.from({ length: 12 }, (_, i) => req(id(i)));
      const lineBytes = Buffer.byteLength(`${lines[0]}\n`);
      const file = fileOf(lines);
      const plan = await planOk(
        inPieces(file, 11),
        rules({ CHUNK_MAX_LINES: 5, CHUNK_MAX_BYTES: 4 * lineBytes }),
      );
      expect(plan.chunks.map((c) => c.requests)).toEqual([4, 4, 4]);
      const plan2 = await planOk(
        inPieces(file, 11),
        rules({ CHUNK_MAX_LINES: 3, CHUNK_MAX_BYTES: 4 * lineBytes }),
      );
      expect(plan2.chunks.map((c) => c.requests)).toEqual([3, 3, 3, 3]);
    });

    it('handles CRLF files and a last line without newline', async () => {
      const lines = Array.from({ length: 5 }, (_, i) => req(id(i), 'é'));
      const file = fileOf(lines, '\r\n', false);
      for (const [name, source] of awkwardSources(file)) {
        const plan = await planOk(source(), rules({ CHUNK_MAX_LINES: 2 }));
        expect(
          plan.chunks.map((c) => [c.lineStart, c.lineEnd]),
          name,
        ).toEqual([
          [1, 2],
          [3, 4],
          [5, 5],
        ]);
        expect(plan.chunks.at(-1)?.byteEnd).toBe(file.length);
        expectRangesReproduceLines(file, plan.chunks);
      }
    });

    it('puts everything in one chunk when the limits allow', async () => {
      const file = fileOf([req('a'), req('b'), req('c')]);
      const plan = await planOk(inPieces(file, 2), rules());
      expect(plan.chunks).toEqual([
        { chunk: 0, byteStart: 0, byteEnd: file.length, lineStart: 1, lineEnd: 3, requests: 3 },
      ]);
    });
  });

  describe('blank lines', () => {
    it('skips blank lines but counts them in line numbers', async () => {
      const lines = ['', req('a'), '   ', '\t', req('b'), '', req('c'), ''];
      const file = fileOf(lines);
      for (const [name, source] of awkwardSources(file)) {
        const plan = await planOk(source(), rules());
        expect(plan.total, name).toBe(3);
        expect(plan.chunks, name).toEqual([
          {
            chunk: 0,
            byteStart: 1,
            byteEnd: file.indexOf(req('c')) + Buffer.byteLength(req('c')) + 1,
            lineStart: 2,
            lineEnd: 7,
            requests: 3,
          },
        ]);
        expectRangesReproduceLines(file, plan.chunks);
      }
    });

    it('starts a new chunk at the next request, not at the blank lines before it', async () => {
      const lines = [req('a'), req('b'), '', '  ', req('c'), '', req('d')];
      const file = fileOf(lines, '\r\n');
      const plan = await planOk(inPieces(file, 3), rules({ CHUNK_MAX_LINES: 2 }));
      expect(plan.chunks.map((c) => [c.lineStart, c.lineEnd, c.requests])).toEqual([
        [1, 2, 2],
        [5, 7, 2],
      ]);
      expect(plan.chunks[1]?.byteStart).toBe(file.indexOf(req('c')));
      expectRangesReproduceLines(file, plan.chunks);
    });

    it('keeps a chunk within CHUNK_MAX_BYTES when blank lines sit between its requests', async () => {
      // Every request line is the same size; a padding line of blanks sits between the first two.
      const lines = [req(id(1)), ' '.repeat(40), req(id(2)), req(id(3)), req(id(4))];
      const lineBytes = Buffer.byteLength(`${lines[0]}\n`);
      const max = 2 * lineBytes;
      const file = fileOf(lines);
      const plan = await planOk(inPieces(file, 9), rules({ CHUNK_MAX_BYTES: max }));
      // The worker reads each chunk's byte range; no range may exceed the limit.
      for (const c of plan.chunks) expect(c.byteEnd - c.byteStart).toBeLessThanOrEqual(max);
      expectRangesReproduceLines(file, plan.chunks);
    });
  });

  describe('model', () => {
    it("picks up the first request's model", async () => {
      const file = fileOf(['', req('a', 'x', 'model-a'), req('b', 'x', 'model-a')]);
      const plan = await planOk(inPieces(file, 4), rules());
      expect(plan.model).toBe('model-a');
    });
  });

  describe('errors', () => {
    it('reports an empty file as empty_file', async () => {
      expect(await planErrors(cutAt(Buffer.alloc(0), []), rules())).toEqual([
        { code: 'empty_file', message: expect.any(String), param: null, line: null },
      ]);
    });

    it('reports a file of only blank lines as empty_file', async () => {
      const errors = await planErrors(inPieces(Buffer.from('\n  \r\n\t\n\n'), 2), rules());
      expect(errors.map((e) => e.code)).toEqual(['empty_file']);
    });

    it('reports a duplicate custom_id at the line of its second use', async () => {
      const file = fileOf([req('a'), req('b'), '', req('a')]);
      expect(await planErrors(inPieces(file, 5), rules())).toEqual([
        {
          code: 'invalid_request',
          message: expect.stringContaining("'a'"),
          param: 'custom_id',
          line: 4,
        },
      ]);
    });

    it('reports validation errors with the line numbers of the file, blank lines included', async () => {
      const file = fileOf(['', req('a'), 'not json', '', req('b', 'x').replace('POST', 'GET')]);
      expect(await planErrors(inPieces(file, 6), rules())).toEqual([
        expect.objectContaining({ code: 'invalid_json_line', line: 3 }),
        expect.objectContaining({ code: 'invalid_request', param: 'method', line: 5 }),
      ]);
    });

    it('keeps validating after the first error, so later errors of other kinds are reported too', async () => {
      const file = fileOf([req('a'), '{', req('b'), req('a'), req('c', 'x', 'not-allowed')]);
      const errors = await planErrors(inPieces(file, 8), rules({ MODELS: ['llama-3'] }));
      expect(errors.map((e) => [e.code, e.line])).toEqual([
        ['invalid_json_line', 2],
        ['invalid_request', 4],
        ['model_not_found', 5],
      ]);
    });

    it('refuses a file that mixes models, naming each line whose model differs from the first request’s', async () => {
      const file = fileOf([req('a'), req('b', 'x', 'mistral-7b'), req('c'), '', req('d', 'y', 'qwen-2')]);
      const errors = await planErrors(inPieces(file, 7), rules());
      expect(errors).toEqual([
        {
          code: 'mismatched_model',
          message: expect.stringContaining("'mistral-7b'"),
          param: 'body.model',
          line: 2,
        },
        {
          code: 'mismatched_model',
          message: expect.stringContaining("'llama-3'"),
          param: 'body.model',
          line: 5,
        },
      ]);
    });

    it('reports a line longer than MAX_LINE_BYTES with its line number, and keeps reading after it', async () => {
      const long = req('big', 'z'.repeat(200));
      const file = fileOf([req('a'), long, req('b'), 'oops']);
      const errors = await planErrors(inPieces(file, 16), rules({ MAX_LINE_BYTES: 150 }));
      expect(errors).toEqual([
        { code: 'invalid_request', message: expect.stringContaining('150'), param: null, line: 2 },
        expect.objectContaining({ code: 'invalid_json_line', line: 4 }),
      ]);
    });

    it('accepts a line of exactly MAX_LINE_BYTES', async () => {
      const line = req('a');
      const file = fileOf([line]);
      const plan = await planOk(cutAt(file, []), rules({ MAX_LINE_BYTES: Buffer.byteLength(line) }));
      expect(plan.total).toBe(1);
    });

    it('reports too many requests once, at the first request over MAX_REQUESTS_PER_BATCH, and stops', async () => {
      // Lines after the limit are invalid, but the plan stops reading at the limit.
      const file = fileOf([req('a'), '', req('b'), req('c'), req('d'), 'garbage', 'garbage']);
      expect(await planErrors(inPieces(file, 10), rules({ MAX_REQUESTS_PER_BATCH: 3 }))).toEqual([
        { code: 'invalid_request', message: expect.stringContaining('3'), param: null, line: 5 },
      ]);
    });

    it('accepts exactly MAX_REQUESTS_PER_BATCH requests', async () => {
      const file = fileOf([req('a'), req('b'), req('c'), '']);
      const plan = await planOk(inPieces(file, 10), rules({ MAX_REQUESTS_PER_BATCH: 3 }));
      expect(plan.total).toBe(3);
    });

    it('stops reading the source at the request limit', async () => {
      let pulled = 0;
      const lines = Array.from({ length: 100 }, (_, i) => req(id(i)));
      async function* source() {
        for (const l of lines) {
          pulled += 1;
          yield Buffer.from(`${l}\n`);
        }
      }
      await planErrors(source(), rules({ MAX_REQUESTS_PER_BATCH: 5 }));
      expect(pulled).toBeLessThan(10);
    });

    it('reports at most MAX_REPORTED_LINE_ERRORS errors, the first ones', async () => {
      const file = fileOf(Array.from({ length: 20 }, (_, i) => `bad line ${i}`));
      const errors = await planErrors(inPieces(file, 7), rules({ MAX_REPORTED_LINE_ERRORS: 3 }));
      expect(errors.map((e) => e.line)).toEqual([1, 2, 3]);
    });

    it('returns only errors, never chunks, when any line is invalid', async () => {
      const file = fileOf([req('a'), req('b'), 'x']);
      const result = await planChunks(inPieces(file, 3), rules({ CHUNK_MAX_LINES: 1 }));
      expect(result).toEqual({ ok: false, errors: [expect.objectContaining({ line: 3 })] });
    });
  });

  describe('a UTF-8 byte order mark', () => {
    it("accepts a BOM before line 1, and the first chunk's range still starts at byte 0", async () => {
      const body = fileOf([req(id(1)), req(id(2)), req(id(3))]);
      const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
      for (const [name, source] of awkwardSources(file)) {
        const result = await planChunks(source(), rules({ CHUNK_MAX_LINES: 2 }));
        expect(result, name).toMatchObject({ ok: true, total: 3, model: 'llama-3' });
        const chunks = result.ok ? result.chunks : [];
        expect(
          chunks.map((c) => [c.byteStart, c.byteEnd, c.lineStart, c.lineEnd]),
          name,
        ).toEqual([
          [0, 3 + (req(id(1)).length + 1) * 2, 1, 2],
          [3 + (req(id(1)).length + 1) * 2, file.length, 3, 3],
        ]);
      }
    });

    it('reports a BOM in the middle of the file as a bad line, numbered', async () => {
      const file = Buffer.concat([
        fileOf([req(id(1))]),
        Buffer.from([0xef, 0xbb, 0xbf]),
        fileOf([req(id(2))]),
      ]);
      const result = await planChunks(cutAt(file, []), rules());
      expect(result).toEqual({ ok: false, errors: [expect.objectContaining({ line: 2 })] });
    });
  });

  describe('the tail of a batch (CHUNK_TAIL_MIN_LINES)', () => {
    const tail = (overrides: Partial<PlanRules['limits']>) =>
      rules({ CHUNK_MAX_LINES: 8, CHUNK_TAIL_MIN_LINES: 1, ...overrides });
    const sizes = (chunks: readonly ChunkRange[]) => chunks.map((c) => c.requests);

    it('cuts the last full chunk into halving pieces, so the last requests spread over workers', async () => {
      expect(tailSizes({ CHUNK_MAX_LINES: 2_000, CHUNK_TAIL_MIN_LINES: 250 })).toEqual([
        250, 250, 500, 1_000,
      ]);
      const file = fileOf(Array.from({ length: 40 }, (_, i) => req(id(i + 1))));
      const plan = await planOk(cutAt(file, []), tail({}));
      expect(sizes(plan.chunks)).toEqual([8, 8, 8, 8, 4, 2, 1, 1]);
      expectRangesReproduceLines(file, plan.chunks);
      expect(plan.chunks.at(-1)?.byteEnd).toBe(file.length);
    });

    it('carries the cut into the chunk before when the last one is short, never across chunks', async () => {
      const file = fileOf(Array.from({ length: 20 }, (_, i) => req(id(i + 1))));
      const plan = await planOk(cutAt(file, []), tail({}));
      // 8, 8, 4: the 4 takes the 1, 1 and 2 slots; the chunk before gives the 4-slot piece.
      expect(sizes(plan.chunks)).toEqual([8, 4, 4, 2, 1, 1]);
      expectRangesReproduceLines(file, plan.chunks);
    });

    it('leaves no piece smaller than the smallest size, and a small batch whole', async () => {
      const file = (n: number) => fileOf(Array.from({ length: n }, (_, i) => req(id(i + 1))));
      const min2 = tail({ CHUNK_TAIL_MIN_LINES: 2 });
      expect(sizes((await planOk(cutAt(file(3), []), min2)).chunks)).toEqual([3]);
      expect(sizes((await planOk(cutAt(file(5), []), min2)).chunks)).toEqual([3, 2]);
      expect(sizes((await planOk(cutAt(file(8), []), min2)).chunks)).toEqual([4, 2, 2]);
    });

    it('is off at 0, and where a full chunk is under four times the smallest piece', async () => {
      const file = fileOf(Array.from({ length: 20 }, (_, i) => req(id(i + 1))));
      expect(sizes((await planOk(cutAt(file, []), tail({ CHUNK_TAIL_MIN_LINES: 0 }))).chunks)).toEqual([
        8, 8, 4,
      ]);
      expect(sizes((await planOk(cutAt(file, []), tail({ CHUNK_TAIL_MIN_LINES: 3 }))).chunks)).toEqual([
        8, 8, 4,
      ]);
      expect(tailSizes({ CHUNK_MAX_LINES: 500, CHUNK_TAIL_MIN_LINES: 250 })).toEqual([]);
    });

    it('keeps byte ranges exact with blank lines, CRLF and a BOM (the first piece still starts at byte 0)', async () => {
      const lines = Array.from({ length: 12 }, (_, i) => req(id(i + 1), `naïve ${i}`));
      lines.splice(5, 0, '', '  ');
      lines.splice(11, 0, '');
      const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fileOf(lines, '\r\n')]);
      for (const [name, source] of awkwardSources(file)) {
        const plan = await planOk(source(), tail({ CHUNK_MAX_LINES: 12, CHUNK_TAIL_MIN_LINES: 2 }));
        expect(sizes(plan.chunks), name).toEqual([4, 4, 2, 2]);
        expect(plan.chunks[0]?.byteStart, name).toBe(0);
        expect(plan.chunks.map((c) => c.chunk)).toEqual([0, 1, 2, 3]);
        expectRangesReproduceLines(file, plan.chunks);
        expect(plan.total).toBe(12);
      }
    });

    it('cuts only chunks whose lines it saw: a resumed planner leaves the chunk it resumed in whole', async () => {
      const file = fileOf(Array.from({ length: 12 }, (_, i) => req(id(i + 1))));
      const r = tail({});
      const first = new ChunkPlanner(r);
      let resumeAt = { byte: 0, line: 1 };
      for await (const item of splitLines(cutAt(file, []), {})) {
        first.add(item);
        if ('number' in item && item.number === 10) {
          resumeAt = { byte: item.end, line: item.number + 1 };
          break;
        }
      }
      const second = new ChunkPlanner(r, first.state(resumeAt.byte, resumeAt.line));
      for await (const item of splitLines(cutAt(file.subarray(resumeAt.byte), []), {
        startOffset: resumeAt.byte,
        firstLineNumber: resumeAt.line,
      }))
        second.add(item);
      const result = second.result();
      if (!result.ok) throw new Error('expected a plan');
      // Chunk 1 (lines 9-12) began before the resume: whole; chunk 0 was planned before it too.
      expect(sizes(result.chunks)).toEqual([8, 4]);
      expectRangesReproduceLines(file, result.chunks);
    });
  });
});
