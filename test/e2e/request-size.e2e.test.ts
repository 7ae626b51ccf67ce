import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  INTEGRATION_FAILURE_STATUS,
  integrationFailureBody,
  MAX_REQUEST_BODY_BYTES,
  requestTooLargeBody,
} from '../../core/app/api-limits.js';
import { functions } from '../../core/app/declaration.js';
import { limitsSchema } from '../../core/config.js';
import type { LoadedFunction } from '../../localstack/runtime/functions.js';
import { createGateway } from '../../localstack/runtime/gateway.js';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk } from '../support/sdk.js';

/**
 * Request bodies at every size, through the local runtime, which plays AWS's layers in AWS's
 * order (core/app/api-limits.ts): the WAF rule on Content-Length above 4,600,000 bytes, API
 * Gateway's 10 MB, Lambda's 6 MB on the serialized event, then the function's own limit
 * (MAX_API_UPLOAD_BYTES, 4 MiB). Every refusal is in OpenAI's error shape; every 413 points at
 * the Uploads API.
 */
const KEY = 'sk-request-size';
const MAX_API_UPLOAD_BYTES = limitsSchema.parse({}).MAX_API_UPLOAD_BYTES;
let rt: LocalRuntime;
let client: OpenAI;
let uploadId: string;

beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { [KEY]: 'tenant-size' },
    workers: { spot: 0, dedicated: 0 },
  });
  client = sdk(rt.url, KEY);
  const upload = await client.uploads.create({
    bytes: 64 * 1024 * 1024,
    filename: 'big.jsonl',
    mime_type: 'application/jsonl',
    purpose: 'batch',
  });
  uploadId = upload.id;
});
afterAll(() => rt?.close());

const MB = 1_000_000;
const content = (bytes: number) => Buffer.alloc(bytes, 0x61);

/** The SDK's error for a call that must fail, with its status and OpenAI error object. */
async function sdkError(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as InstanceType<typeof OpenAI.APIError>;
}

const createFile = async (bytes: number) =>
  client.files.create({ file: await toFile(content(bytes), 'input.jsonl'), purpose: 'batch' });
const addPart = async (bytes: number) =>
  client.uploads.parts.create(uploadId, { data: await toFile(content(bytes), 'part') });

const endpoints = [
  ['POST /v1/files (files.create)', createFile],
  ['POST /v1/uploads/{id}/parts (uploads.parts.create)', addPart],
] as const;

describe.each(endpoints)('%s through the official SDK', (_name, send) => {
  it('accepts a ~1 MB body: it reaches the function, which stores it', async () => {
    const created = (await send(MB)) as { object: string };
    expect(['file', 'upload.part']).toContain(created.object);
  });

  it("answers a body just under the threshold with the function's own 413, pointing at /v1/uploads", async () => {
    // Above MAX_API_UPLOAD_BYTES, and with the SDK's multipart framing still under the threshold.
    const bytes = MAX_REQUEST_BODY_BYTES - 2_000;
    expect(bytes).toBeGreaterThan(MAX_API_UPLOAD_BYTES);
    const err = await sdkError(send(bytes));
    expect(err.status).toBe(413);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', code: 'file_too_large' });
    expect(err.message).toContain('/v1/uploads');
  });

  it.each([
    ['just over the threshold', MAX_REQUEST_BODY_BYTES + 1],
    ['~7 MB (over Lambda’s payload once base64-encoded)', 7 * MB],
    ['~11 MB (over API Gateway’s 10 MB)', 11 * MB],
  ])('answers a body %s with the 413 in front of the function', async (_size, bytes) => {
    const err = await sdkError(send(bytes));
    expect(err.status).toBe(413);
    expect(err.error).toEqual(requestTooLargeBody.error);
    expect(err.message).toContain('/v1/uploads');
  });
});

describe('Content-Length exactly at the threshold (node:http)', () => {
  it('lets 4,600,000 bytes reach the function and refuses 4,600,001 in front of it', async () => {
    const at = await post(rt.url, '/v1/files', multipartOfLength(MAX_REQUEST_BODY_BYTES));
    expect(at.status).toBe(413);
    expect(at.body).toMatchObject({ error: { code: 'file_too_large', param: 'file' } });
    const over = await post(rt.url, '/v1/files', multipartOfLength(MAX_REQUEST_BODY_BYTES + 1));
    expect(over).toEqual({ status: 413, body: requestTooLargeBody });
  });
});

describe('a chunked request (no Content-Length), which the WAF rule cannot size', () => {
  it('reaches the function when its event fits Lambda', async () => {
    const res = await post(rt.url, '/v1/files', multipartOfLength(MB), { chunked: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'file', purpose: 'batch' });
  });

  it("answers OpenAI's 5xx, not a hang or a crash, when its event is over Lambda's 6 MB", async () => {
    // 5 MB base64-encodes to 6.67 MB of event.
    const res = await post(rt.url, '/v1/files', multipartOfLength(5 * MB), { chunked: true });
    expect(res).toEqual({ status: INTEGRATION_FAILURE_STATUS, body: integrationFailureBody });
    const part = await post(rt.url, `/v1/uploads/${uploadId}/parts`, multipartOfLength(5 * MB, 'data'), {
      chunked: true,
    });
    expect(part).toEqual({ status: INTEGRATION_FAILURE_STATUS, body: integrationFailureBody });
  });

  it("answers API Gateway's 413 above 10 MB", async () => {
    const res = await post(rt.url, '/v1/files', multipartOfLength(API_GATEWAY_MAX_BODY_BYTES + 1), {
      chunked: true,
    });
    expect(res).toEqual({ status: 413, body: requestTooLargeBody });
  });

  it('leaves the runtime serving', async () => {
    const page = await client.files.list();
    expect(page.data.length).toBeGreaterThan(0);
  });
});

describe('the gateway without the WAF guard (an environment deployed with api.bodySizeGuard: false)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createGateway({ functions: fakeFunctions(), bodySizeGuard: false });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('hands a body over the threshold to the function while its event fits Lambda', async () => {
    const res = await post(url, '/v1/files', multipartOfLength(MAX_REQUEST_BODY_BYTES + 1));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: MAX_REQUEST_BODY_BYTES + 1 });
  });

  it("answers ~7 MB with INTEGRATION_FAILURE (Lambda's 6 MB), ~11 MB with API Gateway's 413", async () => {
    expect(await post(url, '/v1/files', multipartOfLength(7 * MB))).toEqual({
      status: INTEGRATION_FAILURE_STATUS,
      body: integrationFailureBody,
    });
    expect(await post(url, '/v1/files', multipartOfLength(11 * MB))).toEqual({
      status: 413,
      body: requestTooLargeBody,
    });
  });
});

const BOUNDARY = 'request-size-boundary';

/** A multipart/form-data upload (`purpose` and one file field) of exactly `total` bytes. */
function multipartOfLength(total: number, field = 'file'): Buffer {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="input.jsonl"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const body = Buffer.concat([head, content(total - head.length - tail.length), tail]);
  expect(body.length).toBe(total);
  return body;
}

/** POSTs a multipart body with Content-Length, or streamed in 64 KiB chunks without it. */
function post(
  base: string,
  path: string,
  body: Buffer,
  opts: { chunked?: boolean } = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEY}`,
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          ...(opts.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, body: text });
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (!opts.chunked) {
      req.end(body);
      return;
    }
    (async () => {
      for (let off = 0; off < body.length; off += 64 * 1024) {
        if (!req.write(body.subarray(off, off + 64 * 1024))) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

/** The declaration's authorizer and files function, with stand-in handlers. */
function fakeFunctions(): Map<LoadedFunction['name'], LoadedFunction> {
  const authorizer: LoadedFunction = {
    name: 'authorizer',
    decl: functions.authorizer,
    handler: async (event: { authorizationToken: string }) => {
      if (event.authorizationToken !== `Bearer ${KEY}`) throw new Error('Unauthorized');
      return { principalId: 'tenant-size', context: { tenant: 'tenant-size' } };
    },
  };
  const filesApi: LoadedFunction = {
    name: 'filesApi',
    decl: functions.filesApi,
    handler: async (event: { body: string | null; isBase64Encoded: boolean }) => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        received: Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8').length,
      }),
    }),
  };
  return new Map([
    [authorizer.name, authorizer],
    [filesApi.name, filesApi],
  ]);
}
