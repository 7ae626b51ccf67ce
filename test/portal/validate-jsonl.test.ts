import { describe, expect, it } from 'vitest';
import { planChunks } from '../../core/chunks/plan-chunks.js';
import {
  firstLines,
  MAX_REPORTED_ERRORS,
  validateJsonlFile,
  validateJsonlText,
} from '../../portal/src/features/batches/utils/validate-jsonl.js';

const ok = (id: string, url = '/v1/chat/completions', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: id, method: 'POST', url, body: { model: 'm', messages: [], ...extra } });

const BROKEN = [
  ok('a'),
  '{"custom_id": "b", ',
  ok('a'),
  ok('c', '/v1/embeddings'),
  ok('d', '/v1/nope'),
  JSON.stringify({ custom_id: 'e', method: 'GET', url: '/v1/chat/completions', body: { model: 'm' } }),
  JSON.stringify({ custom_id: 'f', method: 'POST', url: '/v1/chat/completions' }),
  JSON.stringify({ custom_id: 'g', method: 'POST', url: '/v1/chat/completions', body: { messages: [] } }),
  ok('h', '/v1/chat/completions', { stream: true }),
  '[1, 2]',
  '',
  ok('i'),
].join('\n');

describe('validateJsonlText (the browser check of an input file)', () => {
  it('accepts a valid file, skipping blank lines, and reports its requests and models', () => {
    const r = validateJsonlText(`${ok('1')}\n\n${ok('2')}\n`, '/v1/chat/completions');
    expect(r.errors).toEqual([]);
    expect(r).toMatchObject({ requests: 2, lines: 3, models: ['m'], customIds: 2 });
  });

  it('reports each problem with its 1-based line number and the server error code', () => {
    const r = validateJsonlText(BROKEN, '/v1/chat/completions');
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([
      [2, 'invalid_json_line'],
      [3, 'invalid_request'],
      [4, 'invalid_url'],
      [5, 'invalid_url'],
      [6, 'invalid_request'],
      [7, 'missing_required_parameter'],
      [8, 'missing_required_parameter'],
      [9, 'streaming_unsupported'],
      [10, 'invalid_json_line'],
    ]);
    expect(r.errors[1]?.message).toContain("custom_id 'a' is used more than once");
  });

  it('agrees with the server validator line for line (core/chunks/plan-chunks.ts)', async () => {
    const server = await planChunks(
      (async function* () {
        yield new TextEncoder().encode(BROKEN);
      })(),
      {
        endpoint: '/v1/chat/completions',
        limits: {
          MAX_REQUESTS_PER_BATCH: 50_000,
          MAX_LINE_BYTES: 1 << 20,
          CHUNK_MAX_LINES: 2_000,
          CHUNK_MAX_BYTES: 8 << 20,
          MAX_REPORTED_LINE_ERRORS: 100,
          MODELS: [],
        },
      },
    );
    expect(server.ok).toBe(false);
    const serverErrors = server.ok ? [] : server.errors;
    const browser = validateJsonlText(BROKEN, '/v1/chat/completions').errors;
    expect(browser.map((e) => [e.line, e.code, e.param])).toEqual(
      serverErrors.map((e) => [e.line, e.code, e.param]),
    );
  });

  it('flags an empty file', () => {
    expect(validateJsonlText('\n\n', '/v1/embeddings').errors).toEqual([
      { line: 0, code: 'empty_file', message: 'The input file contains no requests.', param: null },
    ]);
  });

  it('keeps at most 100 problems and says there were more', () => {
    const text = Array.from({ length: 150 }, () => 'nope').join('\n');
    const r = validateJsonlText(text, '/v1/chat/completions');
    expect(r.errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(r.truncated).toBe(true);
  });
});

describe('validateJsonlFile and firstLines (streamed from a File)', () => {
  it('streams a file across chunk boundaries and CRLF line ends', async () => {
    const text = Array.from({ length: 2_000 }, (_, i) => ok(`id-${i}`)).join('\r\n');
    const file = new File([text], 'big.jsonl');
    const r = await validateJsonlFile(file, '/v1/chat/completions');
    expect(r).toMatchObject({ requests: 2_000, errors: [] });
    expect(await firstLines(file, 2)).toEqual([ok('id-0'), ok('id-1')]);
  });
});
