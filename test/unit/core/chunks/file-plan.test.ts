import { describe, expect, it } from 'vitest';
import {
  MAX_PLANNED_CHUNKS,
  planRules,
  planUploadedFile,
  StreamingFilePlanner,
  usableFilePlan,
} from '../../../../core/chunks/file-plan.js';
import { planChunks } from '../../../../core/chunks/plan-chunks.js';
import { limitsSchema } from '../../../../core/config.js';
import { jsonlOf } from '../../../support/fakes.js';

const CHAT = '/v1/chat/completions';
const limitsOf = (env: Record<string, string> = {}) => limitsSchema.parse({ CHUNK_MAX_LINES: '4', ...env });
const once = (b: Buffer) =>
  (async function* () {
    yield b;
  })();

const line = (id: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: CHAT,
    body: { model: 'm', messages: [{ role: 'user', content: id }] },
    ...over,
  });

describe('file plans made at upload (core/chunks/file-plan.ts)', () => {
  it('plans a clean file to the chunks, total and model the scheduler would plan', async () => {
    const limits = limitsOf();
    const content = Buffer.from(`${jsonlOf(10)}\n`);
    const { plan: stored, lines } = await planUploadedFile(content, limits);
    expect(lines).toBe(10);
    const fresh = await planChunks(once(content), planRules(limits, CHAT));
    expect(fresh.ok).toBe(true);
    if (!fresh.ok) return;
    expect(usableFilePlan(stored, CHAT, limits)).toEqual({
      endpoint: CHAT,
      total: 10,
      model: 'm',
      chunks: fresh.chunks,
    });
  });

  it.each([
    ['a line that is not JSON', `${line('a')}\nnot json\n`],
    ['a custom_id used twice', `${line('a')}\n${line('a')}\n`],
    ['two models', `${line('a')}\n${line('b', { body: { model: 'other', messages: [] } })}\n`],
    ['a line for another endpoint', `${line('a')}\n${line('b', { url: '/v1/embeddings' })}\n`],
    ['a first line that is not JSON', `{oops\n${line('a')}\n`],
    ['a first line for an unsupported endpoint', `${line('a', { url: '/v1/images' })}\n`],
    ['no request at all', '\n\n'],
  ])('keeps no plan for a file with %s: its batches validate it at create', async (_what, content) => {
    expect((await planUploadedFile(Buffer.from(content), limitsOf())).plan).toBeUndefined();
  });

  it('keeps no plan for a model outside the catalog', async () => {
    const content = Buffer.from(`${line('a')}\n`);
    expect((await planUploadedFile(content, limitsOf({ MODELS: 'llama' }))).plan).toBeUndefined();
    expect((await planUploadedFile(content, limitsOf({ MODELS: 'm' }))).plan).toBeDefined();
  });

  it('keeps no plan that would fill the item: more than MAX_PLANNED_CHUNKS chunks', async () => {
    const limits = limitsOf({ CHUNK_MAX_LINES: '1', CHUNK_TAIL_MIN_LINES: '0' });
    const at = async (n: number) => (await planUploadedFile(Buffer.from(jsonlOf(n)), limits)).plan;
    expect(await at(MAX_PLANNED_CHUNKS)).toBeDefined();
    expect(await at(MAX_PLANNED_CHUNKS + 1)).toBeUndefined();
  });

  it('plans for the endpoint the file names: a batch for another endpoint does not use it', async () => {
    const limits = limitsOf();
    const { plan: stored } = await planUploadedFile(Buffer.from(jsonlOf(3)), limits);
    expect(usableFilePlan(stored, CHAT, limits)).toBeDefined();
    expect(usableFilePlan(stored, '/v1/completions', limits)).toBeUndefined();
  });

  it.each([
    ['chunk size', { CHUNK_MAX_LINES: '2' }],
    ['chunk bytes', { CHUNK_MAX_BYTES: '100000' }],
    ['tail size', { CHUNK_TAIL_MIN_LINES: '1' }],
    ['request limit', { MAX_REQUESTS_PER_BATCH: '5' }],
    ['line limit', { MAX_LINE_BYTES: '1000' }],
    ['model catalog', { MODELS: 'm,llama' }],
  ])('is not used once the deployment changed its %s', async (_what, env) => {
    const { plan: stored } = await planUploadedFile(Buffer.from(jsonlOf(3)), limitsOf());
    expect(usableFilePlan(stored, CHAT, limitsOf())).toBeDefined();
    expect(usableFilePlan(stored, CHAT, limitsOf(env))).toBeUndefined();
  });

  it.each([
    ['nothing', undefined],
    ['not JSON', '{'],
    ['another shape', JSON.stringify({ v: 2, chunks: [] })],
  ])('reads %s as no plan', (_what, stored) => {
    expect(usableFilePlan(stored, CHAT, limitsOf())).toBeUndefined();
  });
});

describe('StreamingFilePlanner (a file that passes by once, in pieces)', () => {
  /** Feeds `content` in pieces of `size` bytes. */
  const streamed = async (content: Buffer, size: number, limits = limitsOf()) => {
    const planner = new StreamingFilePlanner(limits);
    for (let i = 0; i < content.length; i += size) await planner.feed(content.subarray(i, i + size));
    return planner.done();
  };

  it.each([1, 7, 64, 100_000])('plans as the whole file would, fed %i bytes at a time', async (size) => {
    const content = Buffer.from(`\n${jsonlOf(25)}\n`);
    expect(await streamed(content, size)).toEqual(await planUploadedFile(content, limitsOf()));
    expect((await streamed(content, size)).plan).toBeDefined();
  });

  it('plans a one-line file without a newline', async () => {
    const content = Buffer.from(line('only'));
    expect(await streamed(content, 5)).toEqual(await planUploadedFile(content, limitsOf()));
  });

  it.each([
    ['an error on a later line', `${jsonlOf(3)}\nnot json\n`, 4],
    ['a first line for an unsupported endpoint', `${line('a', { url: '/v1/images' })}\n${line('b')}\n`, 0],
  ])('keeps no plan for %s', async (_what, content, lines) => {
    expect(await streamed(Buffer.from(content), 9)).toEqual({ plan: undefined, lines });
  });

  it('does not hang when the planner stops early (more requests than a batch may hold)', async () => {
    const limits = limitsOf({ MAX_REQUESTS_PER_BATCH: '5' });
    // Pieces far beyond the channel's buffer after the planner has stopped reading.
    const content = Buffer.from(`${jsonlOf(5_000)}\n`);
    expect((await streamed(content, 1_000, limits)).plan).toBeUndefined();
  });

  it('gives up on a first line longer than a line may be, holding no more of it', async () => {
    const limits = limitsOf({ MAX_LINE_BYTES: '100' });
    expect(await streamed(Buffer.from(`${'x'.repeat(500)}\n${line('a')}\n`), 50, limits)).toEqual({
      plan: undefined,
      lines: 0,
    });
  });
});
