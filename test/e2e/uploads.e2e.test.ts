import { createHash } from 'node:crypto';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { countIds, resultLines, sdk, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/** OpenAI's Uploads API through the official Node SDK, and the pre-signed part path beside it. */
let rt: LocalRuntime;
let a: OpenAI;
let b: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-up-a': 'tenant-a', 'sk-up-b': 'tenant-b' },
    env: { MAX_API_UPLOAD_BYTES: String(256 * 1024) },
  });
  a = sdk(rt.url, 'sk-up-a');
  b = sdk(rt.url, 'sk-up-b');
});
afterAll(() => rt?.close());

const api = async (path: string, init: RequestInit = {}, key = 'sk-up-a') => {
  const res = await fetch(`${rt.url}/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('Uploads API through the Node SDK', () => {
  it('uploads a file in parts, completes it into a File that a batch runs on', async () => {
    const content = Buffer.from(`${chatLines(1200, { prefix: 'up' })}\n`);
    const partSize = 200 * 1024;
    const upload = await a.uploads.create({
      bytes: content.length,
      filename: 'big.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    expect(upload).toMatchObject({ object: 'upload', status: 'pending', bytes: content.length });
    const partIds: string[] = [];
    for (let off = 0; off < content.length; off += partSize) {
      const part = await a.uploads.parts.create(upload.id, {
        data: await toFile(content.subarray(off, off + partSize), 'part'),
      });
      expect(part).toMatchObject({ object: 'upload.part', upload_id: upload.id });
      partIds.push(part.id);
    }
    const md5 = createHash('md5').update(content).digest('hex');
    const done = await a.uploads.complete(upload.id, { part_ids: partIds, md5 });
    expect(done.status).toBe('completed');
    expect(done.file).toMatchObject({
      object: 'file',
      bytes: content.length,
      filename: 'big.jsonl',
      purpose: 'batch',
    });
    const fileId = done.file?.id as string;
    expect(Buffer.from(await (await a.files.content(fileId)).arrayBuffer()).equals(content)).toBe(true);

    const batch = await a.batches.create({
      input_file_id: fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ended = await waitUntilEnded(a, batch.id);
    expect(ended.status).toBe('completed');
    const lines = await resultLines(a, ended.output_file_id);
    expect(countIds(lines).size).toBe(1200);
    // Downloads are named: the input after its file, results after their batch.
    const named = async (id: string) =>
      (
        await fetch(`${rt.url}/v1/files/${id}/content`, { headers: { authorization: 'Bearer sk-up-a' } })
      ).headers.get('content-disposition');
    expect(await named(ended.output_file_id as string)).toBe(
      `attachment; filename="${batch.id}_output.jsonl"`,
    );
  });

  it('answers the upload errors in OpenAI’s shape', async () => {
    const up = await a.uploads.create({
      bytes: 3,
      filename: 'x.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    const part = await a.uploads.parts.create(up.id, { data: await toFile(Buffer.from('abc'), 'p') });
    await expect(a.uploads.complete(up.id, { part_ids: ['part_nope'] })).rejects.toMatchObject({
      status: 400,
      error: { type: 'invalid_request_error', param: 'part_ids[0]' },
    });
    await expect(a.uploads.complete(up.id, { part_ids: [part.id, part.id] })).rejects.toMatchObject({
      status: 400,
    });
    const small = await a.uploads.create({
      bytes: 4,
      filename: 'x.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    const p2 = await a.uploads.parts.create(small.id, { data: await toFile(Buffer.from('abc'), 'p') });
    await expect(a.uploads.complete(small.id, { part_ids: [p2.id] })).rejects.toMatchObject({
      status: 400,
      error: { param: 'bytes' },
    });
    await a.uploads.complete(up.id, { part_ids: [part.id] });
    await expect(a.uploads.complete(up.id, { part_ids: [part.id] })).rejects.toMatchObject({
      status: 400,
      error: { code: 'upload_completed' },
    });
    const cancelled = await a.uploads.cancel(small.id);
    expect(cancelled.status).toBe('cancelled');
    await expect(
      a.uploads.parts.create(small.id, { data: await toFile(Buffer.from('d'), 'p') }),
    ).rejects.toMatchObject({ status: 400, error: { code: 'upload_cancelled' } });
    await expect(a.uploads.cancel('upload_nope')).rejects.toMatchObject({ status: 404 });
    await expect(
      a.uploads.create({
        bytes: 3,
        filename: 'x.jsonl',
        mime_type: 'application/jsonl',
        purpose: 'fine-tune',
      }),
    ).rejects.toMatchObject({ status: 400, error: { param: 'purpose' } });
  });

  it('refuses an API part larger than the limit with a 413 pointing at pre-signed parts', async () => {
    const up = await a.uploads.create({
      bytes: 300 * 1024,
      filename: 'x.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    await expect(
      a.uploads.parts.create(up.id, { data: await toFile(Buffer.alloc(300 * 1024, 97), 'p') }),
    ).rejects.toMatchObject({ status: 413, error: { param: 'data', code: 'file_too_large' } });
  });

  it('keeps one tenant’s uploads from another', async () => {
    const up = await a.uploads.create({
      bytes: 1,
      filename: 'x.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    await expect(
      b.uploads.parts.create(up.id, { data: await toFile(Buffer.from('x'), 'p') }),
    ).rejects.toMatchObject({
      status: 404,
    });
    await expect(b.uploads.cancel(up.id)).rejects.toMatchObject({ status: 404 });
    expect((await api(`/openbatch/uploads/${up.id}`, {}, 'sk-up-b')).status).toBe(404);
  });
});

describe('pre-signed part uploads (openbatch extension)', () => {
  it('PUTs parts straight to S3, in parallel and retried, then completes through the API', async () => {
    const content = Buffer.from(`${chatLines(40000, { prefix: 'pre' })}\n`); // ~6 MB: two parts
    const part = 5 * 1024 * 1024;
    const up = await a.uploads.create({
      bytes: content.length,
      filename: 'pre.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    });
    const urls = await api(`/openbatch/uploads/${up.id}/part_urls`, {
      method: 'POST',
      body: JSON.stringify({ part_numbers: [1, 2] }),
    });
    expect(urls.status).toBe(200);
    const data = urls.body.data as { part_number: number; url: string }[];
    expect(data.map((d) => d.part_number)).toEqual([1, 2]);
    const put = (n: number, url: string) =>
      fetch(url, { method: 'PUT', body: content.subarray((n - 1) * part, n * part) });
    const results = await Promise.all(data.map((d) => put(d.part_number, d.url)));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    // A retried part (same number, fresh URL) replaces the first copy.
    const retry = await api(`/openbatch/uploads/${up.id}/part_urls`, {
      method: 'POST',
      body: JSON.stringify({ part_numbers: [2] }),
    });
    expect((await put(2, (retry.body.data as { url: string }[])[0]?.url as string)).status).toBe(200);
    const status = await api(`/openbatch/uploads/${up.id}`);
    expect(status.body).toMatchObject({ status: 'pending', openbatch: { mode: 'presigned' } });
    const done = await a.uploads.complete(up.id, { part_ids: [] });
    expect(done.file?.bytes).toBe(content.length);
    const text = Buffer.from(await (await a.files.content(done.file?.id as string)).arrayBuffer());
    expect(text.equals(content)).toBe(true);
  });
});

describe('bytes round-trip exactly', () => {
  it('downloads a file that is not UTF-8 byte for byte, and fails a batch on its bad line, naming it', async () => {
    const good = Buffer.from(`${chatLines(2, { prefix: 'raw' })}\n`);
    const bad = Buffer.concat([
      Buffer.from('{"custom_id":"raw-\xff'.replace('\xff', '')),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}\n'),
    ]);
    const content = Buffer.concat([good, bad]);
    const file = await a.files.create({ file: await toFile(content, 'raw.jsonl'), purpose: 'batch' });
    const back = Buffer.from(await (await a.files.content(file.id)).arrayBuffer());
    expect(back.equals(content)).toBe(true);
    const batch = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ended = await waitUntilEnded(a, batch.id);
    expect(ended.status).toBe('failed');
    expect(ended.errors?.data).toEqual([
      expect.objectContaining({
        code: 'invalid_json_line',
        line: 3,
        message: 'This line is not valid UTF-8.',
      }),
    ]);
  });
});

describe('paths that are not the API or the portal', () => {
  it('answers unknown paths and malformed escapes with 404 in OpenAI’s shape, and 405 with Allow', async () => {
    for (const path of ['/internal/status', '/health', '/%ZZ', '/batches/x/y']) {
      const res = await fetch(`${rt.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('unknown_url');
    }
    const wrong = await fetch(`${rt.url}/v1/batches`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sk-up-a' },
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, GET');
  });
});
