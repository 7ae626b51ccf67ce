import { describe, expect, it } from 'vitest';
import {
  collectPartialOutput,
  fetchPartialOutputPage,
  type PartialOutputPage,
  partialOutputFilename,
  readPartialHeaders,
} from '../../portal/src/features/files/api/partial-output.js';
import { ApiClient } from '../../portal/src/lib/api-client.js';

const page = (body: string, over: Omit<PartialOutputPage, 'body'>): PartialOutputPage => ({
  body: new Blob([body]),
  ...over,
});
const text = async (parts: Blob[]) => new Blob(parts).text();

describe('readPartialHeaders', () => {
  it("reads a running batch's marks: partial, chunks done, where to continue", () => {
    const h = new Headers({
      'openbatch-partial': 'true',
      'openbatch-chunks-done': '3/10',
      'openbatch-next-chunk': '2',
    });
    expect(readPartialHeaders(h)).toEqual({
      partial: true,
      chunksDone: { done: 3, total: 10 },
      nextChunk: 2,
    });
    expect(
      readPartialHeaders(new Headers({ 'openbatch-partial': 'true', 'openbatch-chunks-done': '0/4' })),
    ).toEqual({ partial: true, chunksDone: { done: 0, total: 4 } });
  });

  it('takes an ended batch, or a redirect to its file (no openbatch headers), as the whole output', () => {
    expect(readPartialHeaders(new Headers({ 'openbatch-partial': 'false' }))).toEqual({ partial: false });
    expect(readPartialHeaders(new Headers({ 'content-type': 'application/octet-stream' }))).toEqual({
      partial: false,
    });
  });
});

describe('collectPartialOutput', () => {
  it('continues from openbatch-next-chunk until the API says there is no more, in order', async () => {
    const asked: number[] = [];
    const answers: Record<number, PartialOutputPage> = {
      0: page('a\nb\n', { partial: true, chunksDone: { done: 4, total: 9 }, nextChunk: 2 }),
      2: page('c\n', { partial: true, chunksDone: { done: 5, total: 9 }, nextChunk: 3 }),
      3: page('d\ne\n', { partial: true, chunksDone: { done: 5, total: 9 } }),
    };
    const out = await collectPartialOutput(async (from) => {
      asked.push(from);
      return answers[from] as PartialOutputPage;
    });
    expect(asked).toEqual([0, 2, 3]);
    expect(out.partial).toBe(true);
    expect(out.pages).toBe(3);
    expect(out.chunksDone).toEqual({ done: 5, total: 9 });
    expect(await text(out.parts)).toBe('a\nb\nc\nd\ne\n');
  });

  it('keeps only the whole output file when the batch ends between two answers', async () => {
    const out = await collectPartialOutput(async (from) =>
      from === 0
        ? page('a\n', { partial: true, chunksDone: { done: 1, total: 2 }, nextChunk: 1 })
        : page('a\nb\n', { partial: false }),
    );
    expect(out.partial).toBe(false);
    expect(await text(out.parts)).toBe('a\nb\n');
  });

  it('stops with a message when an answer does not move on (parts moved into the output file)', async () => {
    let calls = 0;
    await expect(
      collectPartialOutput(async () => {
        calls += 1;
        return page('', { partial: true, nextChunk: 0 });
      }),
    ).rejects.toThrow(/being finalized/);
    expect(calls).toBe(1);
    await expect(
      collectPartialOutput(async (from) => page('x\n', { partial: true, nextChunk: from + 1 }), 3),
    ).rejects.toThrow(/more than 3 answers/);
  });
});

describe('fetchPartialOutputPage and the file name', () => {
  it('asks the API with the key and from_chunk, and names the file partial', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const client = new ApiClient({
      baseUrl: 'http://api.test/v1',
      apiKey: 'sk-test',
      fetch: (async (input: string, init?: RequestInit) => {
        seen.push({ url: String(input), auth: new Headers(init?.headers).get('authorization') });
        return new Response('{"id":"r"}\n', {
          headers: { 'openbatch-partial': 'true', 'openbatch-chunks-done': '1/3' },
        });
      }) as typeof fetch,
    });
    const p = await fetchPartialOutputPage(client, 'batch_x', 4);
    expect(seen).toEqual([
      {
        url: 'http://api.test/v1/openbatch/batches/batch_x/partial_output?from_chunk=4',
        auth: 'Bearer sk-test',
      },
    ]);
    expect(p.partial).toBe(true);
    expect(p.chunksDone).toEqual({ done: 1, total: 3 });
    expect(await p.body.text()).toBe('{"id":"r"}\n');
    expect(partialOutputFilename('batch_x', true)).toBe('batch_x_output_partial.jsonl');
    expect(partialOutputFilename('batch_x', false)).toBe('batch_x_output.jsonl');
  });
});
