import { request } from 'node:http';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * A corpus of bad input, sent with plain HTTP (raw paths, raw bytes, no SDK to tidy them up)
 * against the local runtime: every case gets a clear 4xx in OpenAI's error shape, naming the
 * parameter where there is one, and never a 5xx or a hang. A bad batch input file is accepted
 * as a file and fails its batch with line-numbered errors instead.
 */
const KEY = 'sk-bad-input';
let rt: LocalRuntime;
let client: OpenAI;
/** Objects the cases point at: a batch input file, a pending upload. */
const fx = { fileId: '', uploadId: '' };

beforeAll(async () => {
  rt = await startLocalRuntime({ port: 0, apiKeys: { [KEY]: 'tenant-bad' } });
  client = sdk(rt.url, KEY);
  fx.fileId = (await upload(client, chatLines(2, { prefix: 'fx' }))).id;
  fx.uploadId = (
    await client.uploads.create({
      bytes: 10,
      filename: 'parts.jsonl',
      mime_type: 'application/jsonl',
      purpose: 'batch',
    })
  ).id;
});
afterAll(() => rt?.close());

interface Sent {
  method: string;
  /** Sent as is: no normalisation of `..`, percent-encoding or slashes on the way. */
  path: string | (() => string);
  headers?: Record<string, string>;
  body?: string | Buffer | (() => string | Buffer);
  /** Default: Bearer KEY. null: no Authorization header. */
  auth?: string | null;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request over a fresh connection; a hang fails the case after 10 s. */
function send(c: Sent): Promise<Answer> {
  const url = new URL(rt.url);
  const body = typeof c.body === 'function' ? c.body() : c.body;
  const auth = c.auth === undefined ? `Bearer ${KEY}` : c.auth;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: c.method,
        path: typeof c.path === 'function' ? c.path() : c.path,
        headers: {
          ...(auth === null ? {} : { authorization: auth }),
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
          ...c.headers,
        },
        agent: false,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(parts).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer in 10 s: ${c.method} ${c.path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

const json = (value: unknown) => ({
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

const BOUNDARY = 'bad-input-boundary';
type Part = {
  name: string;
  value: string | Buffer;
  filename?: string;
  /** The Content-Disposition parameters after the name, written as is (e.g. an RFC 5987 filename*). */
  raw?: string;
};
/** A multipart/form-data body as the SDKs build it. */
const multipart = (parts: Part[], boundary = BOUNDARY) =>
  Buffer.concat([
    ...parts.flatMap((p) => [
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}${p.raw ?? ''}\r\n` +
          (p.filename === undefined && p.raw === undefined
            ? ''
            : 'Content-Type: application/octet-stream\r\n') +
          '\r\n',
      ),
      Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value),
      Buffer.from('\r\n'),
    ]),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
const form = (parts: Part[]) => ({
  headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
  body: multipart(parts),
});
const LINES = Buffer.from(chatLines(1, { prefix: 'mp' }));
const filePart = (value: Buffer | string = LINES, filename = 'in.jsonl'): Part => ({
  name: 'file',
  value,
  filename,
});
const purpose = (value = 'batch'): Part => ({ name: 'purpose', value });

const LONG_ID = `file-${'x'.repeat(1_500)}`; // past DynamoDB's 1,024-byte sort key
const batchBody = (extra: Record<string, unknown> = {}) =>
  json({ input_file_id: fx.fileId, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra });
const uploadBody = (extra: Record<string, unknown> = {}) =>
  json({ filename: 'x.jsonl', purpose: 'batch', bytes: 10, mime_type: 'application/jsonl', ...extra });

interface Case extends Sent {
  name: string;
  /** The status expected; a list where either is right. */
  status: number | number[];
  /** The error's `param`, where the case is about one parameter. */
  param?: string | null;
}

const up = (rest: string) => () => `/v1/uploads/${fx.uploadId}${rest}`;

const cases: Case[] = [
  // Authorization
  { name: 'no Authorization header', method: 'GET', path: '/v1/files', auth: null, status: 401 },
  { name: 'a key without Bearer', method: 'GET', path: '/v1/files', auth: KEY, status: 401 },
  { name: 'Basic credentials', method: 'GET', path: '/v1/batches', auth: 'Basic dXNlcjpwYXNz', status: 401 },
  { name: 'Bearer and no key', method: 'GET', path: '/v1/batches', auth: 'Bearer ', status: 401 },
  { name: 'an unknown key', method: 'GET', path: '/v1/batches', auth: 'Bearer sk-nobody', status: 401 },
  { name: 'two keys', method: 'GET', path: '/v1/batches', auth: `Bearer ${KEY} ${KEY}`, status: 401 },
  {
    name: 'an 8 KB key',
    method: 'GET',
    path: '/v1/files',
    auth: `Bearer sk-${'k'.repeat(8_000)}`,
    status: 401,
  },

  // Ids in the path: malformed is a 400 naming the parameter, unknown is a 404
  {
    name: 'file id over 1,024 bytes',
    method: 'GET',
    path: `/v1/files/${LONG_ID}`,
    status: 400,
    param: 'file_id',
  },
  {
    name: 'content of a file id over 1,024 bytes',
    method: 'GET',
    path: `/v1/files/${LONG_ID}/content`,
    status: 400,
    param: 'file_id',
  },
  {
    name: 'delete a file id over 1,024 bytes',
    method: 'DELETE',
    path: `/v1/files/${LONG_ID}`,
    status: 400,
    param: 'file_id',
  },
  {
    name: 'batch id over 1,024 bytes',
    method: 'GET',
    path: `/v1/batches/batch_${'x'.repeat(1_500)}`,
    status: 400,
    param: 'batch_id',
  },
  {
    name: 'cancel a batch id over 1,024 bytes',
    method: 'POST',
    path: `/v1/batches/batch_${'x'.repeat(1_500)}/cancel`,
    status: 400,
    param: 'batch_id',
  },
  {
    name: 'chunks of a batch id over 1,024 bytes',
    method: 'GET',
    path: `/v1/openbatch/batches/batch_${'x'.repeat(1_500)}/chunks`,
    status: 400,
    param: 'batch_id',
  },
  {
    name: 'requests of a batch id over 1,024 bytes',
    method: 'GET',
    path: `/v1/openbatch/batches/batch_${'x'.repeat(1_500)}/requests`,
    status: 400,
    param: 'batch_id',
  },
  {
    name: 'retry of a batch id over 1,024 bytes',
    method: 'POST',
    path: `/v1/openbatch/batches/batch_${'x'.repeat(1_500)}/retry`,
    status: 400,
    param: 'batch_id',
  },
  {
    name: 'a custom_id over 1,024 characters',
    method: 'GET',
    path: `/v1/openbatch/batches/batch_unknown/requests/${'x'.repeat(1_500)}`,
    status: 400,
    param: 'custom_id',
  },
  {
    name: 'a request cursor that is not a line_ id',
    method: 'GET',
    path: '/v1/openbatch/batches/batch_unknown/requests?after=req-1',
    status: 400,
    param: 'after',
  },
  {
    name: 'a retry filter of the wrong type',
    method: 'POST',
    path: '/v1/openbatch/batches/batch_unknown/retry',
    ...json({ http_statuses: '500' }),
    status: 400,
    param: 'http_statuses',
  },
  {
    name: 'an unknown retry filter',
    method: 'POST',
    path: '/v1/openbatch/batches/batch_unknown/retry',
    ...json({ status: 'failed' }),
    status: 400,
    param: 'status',
  },
  {
    name: 'requests of an unknown batch',
    method: 'GET',
    path: '/v1/openbatch/batches/batch_unknown/requests',
    status: 404,
    param: 'batch_id',
  },
  {
    name: 'cancel an upload id over 1,024 bytes',
    method: 'POST',
    path: `/v1/uploads/upload_${'x'.repeat(1_500)}/cancel`,
    status: 400,
    param: 'upload_id',
  },
  {
    name: 'complete an upload id over 1,024 bytes',
    method: 'POST',
    path: `/v1/uploads/upload_${'x'.repeat(1_500)}/complete`,
    ...json({ part_ids: [] }),
    status: 400,
    param: 'upload_id',
  },
  {
    name: 'status of an upload id over 1,024 bytes',
    method: 'GET',
    path: `/v1/openbatch/uploads/upload_${'x'.repeat(1_500)}`,
    status: 400,
    param: 'upload_id',
  },
  {
    name: 'part URLs of an upload id over 1,024 bytes',
    method: 'POST',
    path: `/v1/openbatch/uploads/upload_${'x'.repeat(1_500)}/part_urls`,
    ...json({ part_numbers: [1] }),
    status: 400,
    param: 'upload_id',
  },
  {
    name: 'an encoded slash in a file id',
    method: 'GET',
    path: '/v1/files/file-a%2Fb',
    status: 400,
    param: 'file_id',
  },
  {
    name: 'an encoded ../ in a batch id',
    method: 'GET',
    path: '/v1/batches/..%2F..%2Fx',
    status: 400,
    param: 'batch_id',
  },
  {
    name: 'an encoded NUL in a file id',
    method: 'GET',
    path: '/v1/files/file-%00',
    status: 400,
    param: 'file_id',
  },
  {
    name: 'broken percent-encoding (%ZZ) in a file id',
    method: 'GET',
    path: '/v1/files/%ZZ',
    status: 400,
    param: 'file_id',
  },
  {
    name: 'an encoded space in a batch id',
    method: 'GET',
    path: '/v1/batches/batch_a%20b',
    status: 400,
    param: 'batch_id',
  },
  { name: 'a raw .. after /v1/files', method: 'GET', path: '/v1/files/..', status: 404 },
  {
    name: 'a raw ../ that lands on an encoded ../../etc/passwd',
    method: 'GET',
    path: '/v1/../v1/files/..%2F..%2Fetc%2Fpasswd',
    status: 400,
    param: 'file_id',
  },
  {
    name: 'an unknown, well-formed file id',
    method: 'GET',
    path: '/v1/files/file-doesnotexist',
    status: 404,
  },
  {
    name: 'an unknown, well-formed batch id',
    method: 'GET',
    path: '/v1/batches/batch_doesnotexist',
    status: 404,
  },
  {
    name: 'an unknown, well-formed upload id',
    method: 'POST',
    path: '/v1/uploads/upload_nothing/cancel',
    status: 404,
  },
  { name: 'an unknown path under /v1', method: 'GET', path: '/v1/nothing-here', status: 404 },
  { name: 'broken percent-encoding (%ZZ) as a path under /v1', method: 'GET', path: '/v1/%ZZ', status: 404 },
  { name: 'broken percent-encoding (%ZZ) as the whole path', method: 'GET', path: '/%ZZ', status: 404 },
  { name: 'a path outside /v1 that is not the portal', method: 'GET', path: '/internal/status', status: 404 },
  { name: 'a path that climbs out of /v1', method: 'GET', path: '/v1/files/../../etc/passwd', status: 404 },
  { name: 'a method the route does not take', method: 'PUT', path: '/v1/files', status: 405 },

  // List parameters
  { name: 'limit=0', method: 'GET', path: '/v1/batches?limit=0', status: 400, param: 'limit' },
  { name: 'limit=101', method: 'GET', path: '/v1/batches?limit=101', status: 400, param: 'limit' },
  { name: 'limit=abc', method: 'GET', path: '/v1/batches?limit=abc', status: 400, param: 'limit' },
  { name: 'limit=-5', method: 'GET', path: '/v1/batches?limit=-5', status: 400, param: 'limit' },
  { name: 'limit=1.5', method: 'GET', path: '/v1/batches?limit=1.5', status: 400, param: 'limit' },
  { name: 'limit= (empty)', method: 'GET', path: '/v1/batches?limit=', status: 400, param: 'limit' },
  {
    name: 'after over 1,024 bytes',
    method: 'GET',
    path: `/v1/batches?after=batch_${'x'.repeat(1_500)}`,
    status: 400,
    param: 'after',
  },
  {
    name: 'after with a slash',
    method: 'GET',
    path: '/v1/batches?after=batch_a%2Fb',
    status: 400,
    param: 'after',
  },
  { name: 'files limit=0', method: 'GET', path: '/v1/files?limit=0', status: 400, param: 'limit' },
  { name: 'files limit=10001', method: 'GET', path: '/v1/files?limit=10001', status: 400, param: 'limit' },
  {
    name: 'files order=sideways',
    method: 'GET',
    path: '/v1/files?order=sideways',
    status: 400,
    param: 'order',
  },
  {
    name: 'files after over 1,024 bytes',
    method: 'GET',
    path: `/v1/files?after=${LONG_ID}`,
    status: 400,
    param: 'after',
  },
  {
    name: 'files purpose of 100 characters',
    method: 'GET',
    path: `/v1/files?purpose=${'p'.repeat(100)}`,
    status: 400,
    param: 'purpose',
  },

  // JSON bodies (POST /v1/batches)
  {
    name: 'a body that is not JSON',
    method: 'POST',
    path: '/v1/batches',
    headers: json(0).headers,
    body: '{"input_file_id":',
    status: 400,
  },
  { name: 'no body', method: 'POST', path: '/v1/batches', headers: json(0).headers, status: 400 },
  { name: 'a JSON array', method: 'POST', path: '/v1/batches', ...json([]), status: 400 },
  { name: 'a JSON string', method: 'POST', path: '/v1/batches', ...json('batch'), status: 400 },
  { name: 'JSON null', method: 'POST', path: '/v1/batches', ...json(null), status: 400 },
  {
    name: 'a UTF-16 body',
    method: 'POST',
    path: '/v1/batches',
    headers: { 'content-type': 'application/json; charset=utf-16' },
    body: Buffer.from('{"a":1}', 'utf16le'),
    status: 400,
  },
  {
    name: 'Content-Type text/plain',
    method: 'POST',
    path: '/v1/batches',
    headers: { 'content-type': 'text/plain' },
    body: () => batchBody().body,
    status: 415,
  },
  {
    name: 'a garbled Content-Type',
    method: 'POST',
    path: '/v1/batches',
    headers: { 'content-type': ';;==garbage' },
    body: () => batchBody().body,
    status: 415,
  },
  {
    name: 'input_file_id a number',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ input_file_id: 42 }).body,
    headers: json(0).headers,
    status: 400,
    param: 'input_file_id',
  },
  {
    name: 'input_file_id over 1,024 bytes',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ input_file_id: LONG_ID }).body,
    headers: json(0).headers,
    status: 400,
    param: 'input_file_id',
  },
  {
    name: 'input_file_id with invalid UTF-8',
    method: 'POST',
    path: '/v1/batches',
    headers: json(0).headers,
    body: Buffer.concat([
      Buffer.from('{"input_file_id":"file-'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","endpoint":"/v1/chat/completions","completion_window":"24h"}'),
    ]),
    status: 400,
    param: 'input_file_id',
  },
  {
    name: 'input_file_id unknown',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ input_file_id: 'file-nothing' }).body,
    headers: json(0).headers,
    status: 404,
    param: 'input_file_id',
  },
  {
    name: 'endpoint missing',
    method: 'POST',
    path: '/v1/batches',
    ...json({ input_file_id: 'file-x', completion_window: '24h' }),
    status: 400,
    param: 'endpoint',
  },
  {
    name: 'endpoint not run here',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ endpoint: '/v1/moderations' }).body,
    headers: json(0).headers,
    status: 400,
    param: 'endpoint',
  },
  {
    name: 'completion_window 48h',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ completion_window: '48h' }).body,
    headers: json(0).headers,
    status: 400,
    param: 'completion_window',
  },
  {
    name: 'an extra field',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ temperature: 0 }).body,
    headers: json(0).headers,
    status: 400,
    param: 'temperature',
  },
  {
    name: 'metadata with an empty key',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ metadata: { '': 'x' } }).body,
    headers: json(0).headers,
    status: 400,
    param: 'metadata',
  },
  {
    name: 'metadata with 17 pairs',
    method: 'POST',
    path: '/v1/batches',
    body: () =>
      batchBody({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }).body,
    headers: json(0).headers,
    status: 400,
    param: 'metadata',
  },
  {
    name: 'metadata key of 65 characters',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ metadata: { ['k'.repeat(65)]: 'v' } }).body,
    headers: json(0).headers,
    status: 400,
    param: 'metadata',
  },
  {
    name: 'metadata value of 513 characters',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ metadata: { k: 'v'.repeat(513) } }).body,
    headers: json(0).headers,
    status: 400,
    param: 'metadata',
  },
  {
    name: 'metadata value a number',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ metadata: { k: 1 } }).body,
    headers: json(0).headers,
    status: 400,
    param: 'metadata',
  },
  {
    name: 'metadata 50,000 arrays deep',
    method: 'POST',
    path: '/v1/batches',
    headers: json(0).headers,
    body: () => batchBody().body.replace(/}$/, `,"metadata":${'['.repeat(50_000)}${']'.repeat(50_000)}}`),
    status: 400,
  },
  {
    name: 'output_expires_after under an hour',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ output_expires_after: { anchor: 'created_at', seconds: 60 } }).body,
    headers: json(0).headers,
    status: 400,
    param: 'output_expires_after.seconds',
  },
  {
    name: 'output_expires_after with another anchor',
    method: 'POST',
    path: '/v1/batches',
    body: () => batchBody({ output_expires_after: { anchor: 'completed_at', seconds: 3600 } }).body,
    headers: json(0).headers,
    status: 400,
    param: 'output_expires_after.anchor',
  },
  {
    name: 'a 5 MB body (past the API’s body limit)',
    method: 'POST',
    path: '/v1/batches',
    headers: json(0).headers,
    body: () => batchBody({ metadata: { k: 'v'.repeat(5_000_000) } }).body,
    status: 413,
  },

  // JSON bodies (uploads)
  {
    name: 'upload bytes negative',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ bytes: -1 }),
    status: 400,
    param: 'bytes',
  },
  {
    name: 'upload bytes a string',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ bytes: '10' }),
    status: 400,
    param: 'bytes',
  },
  {
    name: 'upload filename of 15,000 characters',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ filename: `${'n'.repeat(15_000)}.jsonl` }),
    status: 400,
    param: 'filename',
  },
  {
    name: 'upload filename with a slash',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ filename: '../x.jsonl' }),
    status: 400,
    param: 'filename',
  },
  {
    name: 'upload purpose fine-tune',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ purpose: 'fine-tune' }),
    status: 400,
    param: 'purpose',
  },
  {
    name: 'upload mime_type not a MIME type',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ mime_type: 'jsonl' }),
    status: 400,
    param: 'mime_type',
  },
  {
    name: 'upload with an extra field',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ parts: 3 }),
    status: 400,
    param: 'parts',
  },
  {
    name: 'upload expires_after of a second',
    method: 'POST',
    path: '/v1/uploads',
    ...uploadBody({ expires_after: { anchor: 'created_at', seconds: 1 } }),
    status: 400,
    param: 'expires_after.seconds',
  },
  {
    name: 'complete with part_ids not a list',
    method: 'POST',
    path: up('/complete'),
    ...json({ part_ids: 'part_1' }),
    status: 400,
    param: 'part_ids',
  },
  {
    name: 'complete with a part id over 1,024 bytes',
    method: 'POST',
    path: up('/complete'),
    ...json({ part_ids: [`part_${'x'.repeat(1_500)}`] }),
    status: 400,
    param: 'part_ids.0',
  },
  {
    name: 'complete with a part it does not hold',
    method: 'POST',
    path: up('/complete'),
    ...json({ part_ids: ['part_nothing'] }),
    status: 400,
  },
  {
    name: 'complete with an md5 that is not hex',
    method: 'POST',
    path: up('/complete'),
    ...json({ part_ids: [], md5: 'xyz' }),
    status: 400,
    param: 'md5',
  },
  {
    name: 'part_urls for part 0',
    method: 'POST',
    path: () => `/v1/openbatch/uploads/${fx.uploadId}/part_urls`,
    ...json({ part_numbers: [0] }),
    status: 400,
    param: 'part_numbers.0',
  },
  {
    name: 'part_urls for 1,001 parts',
    method: 'POST',
    path: () => `/v1/openbatch/uploads/${fx.uploadId}/part_urls`,
    ...json({ part_numbers: Array.from({ length: 1_001 }, (_, i) => i + 1) }),
    status: 400,
    param: 'part_numbers',
  },

  // Multipart shapes (POST /v1/files, POST /v1/uploads/{id}/parts)
  {
    name: 'an upload without Content-Type',
    method: 'POST',
    path: '/v1/files',
    body: multipart([purpose(), filePart()]),
    status: 400,
  },
  {
    name: 'multipart without a boundary',
    method: 'POST',
    path: '/v1/files',
    headers: { 'content-type': 'multipart/form-data' },
    body: multipart([purpose(), filePart()]),
    status: 400,
  },
  {
    name: 'multipart with an empty boundary',
    method: 'POST',
    path: '/v1/files',
    headers: { 'content-type': 'multipart/form-data; boundary=' },
    body: multipart([purpose(), filePart()]),
    status: 400,
  },
  {
    name: 'multipart/mixed',
    method: 'POST',
    path: '/v1/files',
    headers: { 'content-type': `multipart/mixed; boundary=${BOUNDARY}` },
    body: multipart([purpose(), filePart()]),
    status: 400,
  },
  {
    name: 'a JSON body for an upload',
    method: 'POST',
    path: '/v1/files',
    ...json({ purpose: 'batch', file: 'x' }),
    status: 400,
  },
  {
    name: 'no file part',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose()]),
    status: 400,
    param: 'file',
  },
  {
    name: 'two file parts',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), filePart(), filePart()]),
    status: 400,
    param: 'file',
  },
  {
    name: 'the file under another name',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), { ...filePart(), name: 'document' }]),
    status: 400,
    param: 'file',
  },
  {
    name: 'no purpose',
    method: 'POST',
    path: '/v1/files',
    ...form([filePart()]),
    status: 400,
    param: 'purpose',
  },
  {
    name: 'purpose fine-tune',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose('fine-tune'), filePart()]),
    status: 400,
    param: 'purpose',
  },
  {
    name: 'a purpose of 100,000 characters',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose('p'.repeat(100_000)), filePart()]),
    status: 400,
    param: 'purpose',
  },
  {
    name: 'an empty file',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), filePart(Buffer.alloc(0))]),
    status: 400,
    param: 'file',
  },
  {
    name: 'a file name of 15,000 characters',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), filePart(LINES, `${'n'.repeat(15_000)}.jsonl`)]),
    status: 400,
    param: 'file',
  },
  {
    name: 'a raw control character in the part header',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), filePart(LINES, 'a\u0007b.jsonl')]),
    status: 400,
  },
  {
    name: 'a file name with an encoded control character (RFC 5987 filename*)',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), { name: 'file', value: LINES, raw: "; filename*=UTF-8''a%07b.jsonl" }]),
    status: 400,
    param: 'file',
  },
  {
    name: 'expires_after[seconds] of 10',
    method: 'POST',
    path: '/v1/files',
    ...form([
      purpose(),
      { name: 'expires_after[anchor]', value: 'created_at' },
      { name: 'expires_after[seconds]', value: '10' },
      filePart(),
    ]),
    status: 400,
    param: 'expires_after.seconds',
  },
  {
    name: 'expires_after[seconds] not a number',
    method: 'POST',
    path: '/v1/files',
    ...form([
      purpose(),
      { name: 'expires_after[anchor]', value: 'created_at' },
      { name: 'expires_after[seconds]', value: 'soon' },
      filePart(),
    ]),
    status: 400,
    param: 'expires_after.seconds',
  },
  {
    name: 'an unknown form field',
    method: 'POST',
    path: '/v1/files',
    ...form([purpose(), { name: 'model', value: 'gpt' }, filePart()]),
    status: 400,
    param: 'model',
  },
  {
    name: 'a multipart body cut short',
    method: 'POST',
    path: '/v1/files',
    headers: form([]).headers,
    body: multipart([purpose(), filePart()]).subarray(0, 150),
    status: 400,
  },
  {
    name: 'an upload part without data',
    method: 'POST',
    path: up('/parts'),
    ...form([{ name: 'other', value: 'x' }]),
    status: 400,
    param: 'data',
  },
  { name: 'an upload part as JSON', method: 'POST', path: up('/parts'), ...json({ data: 'x' }), status: 400 },
];

describe('bad input: a clear OpenAI-shaped 4xx, never a 5xx or a hang', () => {
  it('has a corpus of at least 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  const check = async (c: Case) => {
    const res = await send(c);
    expect([c.status].flat(), `${res.status} ${res.text.slice(0, 300)}`).toContain(res.status);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    const body = JSON.parse(res.text) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toEqual({
      message: expect.any(String),
      type: expect.any(String),
      param:
        c.param === undefined
          ? expect.toSatisfy((p: unknown) => p === null || typeof p === 'string')
          : c.param,
      code: expect.toSatisfy((p: unknown) => p === null || typeof p === 'string'),
    });
    expect((body.error.message as string).length).toBeGreaterThan(0);
    // Clear means short: no echo of a huge input, no stack.
    expect(res.text.length).toBeLessThan(1_000);
  };
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => check(c));
});

describe('bad batch input files: accepted as files, the batch fails with line-numbered errors', () => {
  const good = (id: string) =>
    JSON.stringify({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: [] },
    });
  const files: [name: string, content: Buffer, expected: { code: string; line: number | null }[]][] = [
    [
      'invalid JSON on line 2',
      Buffer.from(`${good('a')}\n{"custom_id": \n${good('c')}\n`),
      [{ code: 'invalid_json_line', line: 2 }],
    ],
    [
      'UTF-16 with its byte order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(good('a'), 'utf16le')]),
      [{ code: 'invalid_json_line', line: 1 }],
    ],
    [
      'NUL bytes on line 1',
      Buffer.from(`\u0000\u0000\n${good('b')}\n`),
      [{ code: 'invalid_json_line', line: 1 }],
    ],
    [
      'a JSON array on line 3',
      Buffer.from(`${good('a')}\n${good('b')}\n[1,2]\n`),
      [{ code: 'invalid_json_line', line: 3 }],
    ],
    [
      'a custom_id used twice',
      Buffer.from(`${good('a')}\n${good('b')}\n${good('a')}\n`),
      [{ code: 'invalid_request', line: 3 }],
    ],
    [
      'a GET request on line 2',
      Buffer.from(`${good('a')}\n${good('b').replace('"POST"', '"GET"')}\n`),
      [{ code: 'invalid_request', line: 2 }],
    ],
  ];

  it.each(files)('%s', async (_, content, expected) => {
    const file = await client.files.create({ file: await toFile(content, 'bad.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = await waitUntilEnded(client, created.id, 20_000);
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data?.map((e) => ({ code: e.code, line: e.line }))).toEqual(expected);
    expect(batch.output_file_id ?? null).toBeNull();
  });
});

describe('inputs that were silently ignored or refused, now honoured (through the official SDK)', () => {
  it('dates an uploaded file by expires_after, as the SDK sends it in the form', async () => {
    const file = await client.files.create({
      file: await toFile(LINES, 'expiring.jsonl'),
      purpose: 'batch',
      expires_after: { anchor: 'created_at', seconds: 3_600 },
    });
    expect(file.expires_at).toBe(file.created_at + 3_600);
    expect((await client.files.retrieve(file.id)).expires_at).toBe(file.created_at + 3_600);
  });

  it("dates a batch's output and error files by output_expires_after, from their creation", async () => {
    const file = await upload(client, chatLines(3, { prefix: 'exp' }));
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      output_expires_after: { anchor: 'created_at', seconds: 7_200 },
    });
    const batch = await waitUntilEnded(client, created.id, 30_000);
    expect(batch.status).toBe('completed');
    const output = await client.files.retrieve(batch.output_file_id as string);
    expect(output.expires_at).toBe(output.created_at + 7_200);
  });

  it('runs a batch input file that starts with a UTF-8 byte order mark, line 1 included', async () => {
    const content = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(chatLines(3, { prefix: 'bom' })),
    ]);
    const file = await client.files.create({ file: await toFile(content, 'bom.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = await waitUntilEnded(client, created.id, 30_000);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    const out = await resultLines(client, batch.output_file_id);
    expect(out.map((l) => l.custom_id)).toEqual(['bom-0', 'bom-1', 'bom-2']);
  });

  it('keeps metadata at its limits: 16 pairs, 64-character keys, 512-character values', async () => {
    const metadata = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`${i}`.padStart(64, 'k'), 'v'.repeat(512)]),
    );
    const created = await client.batches.create({
      input_file_id: fx.fileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata,
    });
    expect((await client.batches.retrieve(created.id)).metadata).toEqual(metadata);
  });
});
