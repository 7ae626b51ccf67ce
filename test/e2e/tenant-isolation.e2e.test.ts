import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * Two tenants on one runtime: every route that names an object (files, their content, batches,
 * their chunks, uploads and their parts, and the openbatch part_urls and status extensions)
 * answers tenant B 404 for each of tenant A's objects, writes nothing of A's, and B's lists
 * never hold A's objects, whatever cursor B passes.
 */
const A = 'sk-iso-a';
const B = 'sk-iso-b';
let rt: LocalRuntime;
let a: OpenAI;
let b: OpenAI;

/** Tenant A's objects, and tenant B's own (so B's lists are not trivially empty). */
const mine = {
  inputFileId: '',
  outputFileId: '',
  doneBatchId: '',
  runningBatchId: '',
  uploadId: '',
  partId: '',
};
const theirs = { fileId: '', batchId: '', uploadId: '' };

beforeAll(async () => {
  rt = await startLocalRuntime({ port: 0, apiKeys: { [A]: 'tenant-iso-a', [B]: 'tenant-iso-b' } });
  a = sdk(rt.url, A);
  b = sdk(rt.url, B);

  const input = await upload(a, chatLines(3, { prefix: 'iso' }));
  mine.inputFileId = input.id;
  const done = await a.batches.create({
    input_file_id: input.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  const ended = await waitUntilEnded(a, done.id, 30_000);
  expect(ended.status).toBe('completed');
  mine.doneBatchId = done.id;
  mine.outputFileId = ended.output_file_id as string;
  // A second batch, for B to try to cancel while it may still run.
  mine.runningBatchId = (
    await a.batches.create({
      input_file_id: input.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
  ).id;
  const up = await a.uploads.create({
    bytes: 4,
    filename: 'a.jsonl',
    mime_type: 'application/jsonl',
    purpose: 'batch',
  });
  mine.uploadId = up.id;
  mine.partId = (await a.uploads.parts.create(up.id, { data: await toFile(Buffer.from('{}\n\n'), 'p') })).id;

  theirs.fileId = (await upload(b, chatLines(1, { prefix: 'b' }))).id;
  theirs.batchId = (
    await b.batches.create({
      input_file_id: theirs.fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    })
  ).id;
  theirs.uploadId = (
    await b.uploads.create({
      bytes: 4,
      filename: 'b.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    })
  ).id;
});
afterAll(() => rt?.close());

const call = async (
  key: string,
  method: string,
  path: string,
  body?: string | FormData,
  contentType?: string,
) => {
  const res = await fetch(`${rt.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(contentType ? { 'content-type': contentType } : {}) },
    ...(body === undefined ? {} : { body }),
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, text };
};

const jsonBody = (value: unknown) => [JSON.stringify(value), 'application/json'] as const;
const partForm = () => {
  const form = new FormData();
  form.append('data', new Blob(['xxxx']), 'p');
  return form;
};

/** Every route that names one of A's objects, as B would call it. */
const routes: [
  name: string,
  method: string,
  path: () => string,
  body?: () => readonly [string | FormData, string?],
][] = [
  ['retrieve the input file', 'GET', () => `/v1/files/${mine.inputFileId}`],
  ['download the input file', 'GET', () => `/v1/files/${mine.inputFileId}/content`],
  ['delete the input file', 'DELETE', () => `/v1/files/${mine.inputFileId}`],
  ['retrieve the output file', 'GET', () => `/v1/files/${mine.outputFileId}`],
  ['download the output file', 'GET', () => `/v1/files/${mine.outputFileId}/content`],
  ['delete the output file', 'DELETE', () => `/v1/files/${mine.outputFileId}`],
  ['retrieve the batch', 'GET', () => `/v1/batches/${mine.doneBatchId}`],
  ['retrieve the running batch', 'GET', () => `/v1/batches/${mine.runningBatchId}`],
  ['cancel the running batch', 'POST', () => `/v1/batches/${mine.runningBatchId}/cancel`],
  ['list the batch’s chunks', 'GET', () => `/v1/openbatch/batches/${mine.doneBatchId}/chunks`],
  ['list the batch’s requests', 'GET', () => `/v1/openbatch/batches/${mine.doneBatchId}/requests`],
  [
    'read one of the batch’s requests',
    'GET',
    () => `/v1/openbatch/batches/${mine.doneBatchId}/requests/iso-0`,
  ],
  ['retry the batch', 'POST', () => `/v1/openbatch/batches/${mine.doneBatchId}/retry`],
  [
    'retry the batch’s requests by custom_id',
    'POST',
    () => `/v1/openbatch/batches/${mine.doneBatchId}/retry`,
    () => jsonBody({ custom_ids: ['iso-0'] }),
  ],
  [
    'run a batch over the input file',
    'POST',
    () => '/v1/batches',
    () =>
      jsonBody({
        input_file_id: mine.inputFileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
  ],
  [
    'run a batch over the output file',
    'POST',
    () => '/v1/batches',
    () =>
      jsonBody({
        input_file_id: mine.outputFileId,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
  ],
  ['add a part to the upload', 'POST', () => `/v1/uploads/${mine.uploadId}/parts`, () => [partForm()]],
  [
    'complete the upload',
    'POST',
    () => `/v1/uploads/${mine.uploadId}/complete`,
    () => jsonBody({ part_ids: [mine.partId] }),
  ],
  ['cancel the upload', 'POST', () => `/v1/uploads/${mine.uploadId}/cancel`],
  [
    'get part URLs for the upload',
    'POST',
    () => `/v1/openbatch/uploads/${mine.uploadId}/part_urls`,
    () => jsonBody({ part_numbers: [1] }),
  ],
  ['read the upload’s status', 'GET', () => `/v1/openbatch/uploads/${mine.uploadId}`],
];

describe("tenant isolation: B gets 404 for each of A's objects, on every route", () => {
  it.each(routes)('%s', async (_, method, path, body) => {
    const [payload, contentType] = body?.() ?? [];
    const res = await call(B, method, path(), payload, contentType);
    expect(res.status, res.text).toBe(404);
    expect(JSON.parse(res.text)).toEqual({
      error: expect.objectContaining({
        type: 'invalid_request_error',
        message: expect.stringMatching(/^No such/),
      }),
    });
  });

  it("lets B's upload not take A's part", async () => {
    const res = await call(
      B,
      'POST',
      `/v1/uploads/${theirs.uploadId}/complete`,
      ...jsonBody({ part_ids: [mine.partId] }),
    );
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('"completed"');
  });

  it("never shows A's objects in B's lists, whatever the cursor", async () => {
    const aIds = [mine.inputFileId, mine.outputFileId, mine.doneBatchId, mine.runningBatchId];
    const listed: string[] = [];
    for await (const f of b.files.list()) listed.push(f.id);
    for await (const f of b.files.list({ purpose: 'batch_output' })) listed.push(f.id);
    for await (const x of b.batches.list({ limit: 1 })) listed.push(x.id);
    for (const after of [mine.inputFileId, mine.outputFileId]) {
      for (const order of ['asc', 'desc'] as const)
        listed.push(...(await b.files.list({ after, order })).data.map((f) => f.id));
    }
    for (const after of [mine.doneBatchId, mine.runningBatchId])
      listed.push(...(await b.batches.list({ after })).data.map((x) => x.id));
    expect(listed).toContain(theirs.fileId);
    expect(listed).toContain(theirs.batchId);
    for (const id of aIds) expect(listed).not.toContain(id);
  });

  it("leaves A's objects as they were: nothing deleted, cancelled or completed by B", async () => {
    await expect(a.files.retrieve(mine.inputFileId)).resolves.toMatchObject({ id: mine.inputFileId });
    await expect(a.files.retrieve(mine.outputFileId)).resolves.toMatchObject({ id: mine.outputFileId });
    expect((await a.batches.retrieve(mine.runningBatchId)).status).not.toMatch(/^cancel/);
    const status = await call(A, 'GET', `/v1/openbatch/uploads/${mine.uploadId}`);
    expect(status.status).toBe(200);
    expect(JSON.parse(status.text)).toMatchObject({ status: 'pending' });
    const aFiles = (await a.files.list()).data.map((f) => f.id);
    expect(aFiles).toEqual(expect.arrayContaining([mine.inputFileId, mine.outputFileId]));
    expect(aFiles).not.toContain(theirs.fileId);
  });
});
