import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileRecord } from '../../../../core/adapters/files-repo.js';
import type { FileObject, ListPage } from '../../../../core/openai/schemas.js';
import { apiEvent, bodyOf, lambdaContext, multipartEvent } from '../../support/api-event.js';
import { AWS_TEST_ENV, setAwsTestEnv } from '../../support/aws-env.js';

type Handler = (event: APIGatewayProxyEvent, context: typeof lambdaContext) => Promise<APIGatewayProxyResult>;

const ddb = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: Handler;

const MAX_UPLOAD = 1_024;
const MAX_INLINE = 2_048;
const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const NOW_S = Math.floor(NOW_MS / 1000);

beforeAll(async () => {
  setAwsTestEnv({
    MAX_API_UPLOAD_BYTES: String(MAX_UPLOAD),
    MAX_INLINE_CONTENT_BYTES: String(MAX_INLINE),
    FILE_RETENTION_DAYS: '7',
  });
  ({ handler } = (await import('../../../../lambdas/files-api/handler.js')) as unknown as {
    handler: Handler;
  });
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW_MS);
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterEach(() => {
  ddb.reset();
  s3.reset();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const call = (event: APIGatewayProxyEvent) => handler(event, lambdaContext);

const JSONL = Buffer.from(
  [
    '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}',
    '{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"héllo €"}]}}',
    '',
  ].join('\n'),
);

const upload = (
  content: Buffer | string = JSONL,
  purpose: string | null = 'batch',
  filename = 'requests.jsonl',
) =>
  multipartEvent([
    ...(purpose === null ? [] : [{ name: 'purpose', value: purpose }]),
    { name: 'file', value: content, filename, contentType: 'application/octet-stream' },
  ]);

const stored = (overrides: Partial<FileRecord> = {}): FileRecord => ({
  tenant: 'acme',
  id: 'file-abc',
  filename: 'requests.jsonl',
  purpose: 'batch',
  bytes: JSONL.length,
  created_at: NOW_S - 100,
  expires_at: NOW_S + 7 * 86_400,
  s3_key: 'acme/files/file-abc.jsonl',
  ...overrides,
});

const fileEvent = (method: 'GET' | 'DELETE', id: string, suffix = '') =>
  apiEvent({
    method,
    path: `/v1/files/${id}${suffix}`,
    resource: `/v1/files/{file_id}${suffix}`,
    pathParameters: { file_id: id },
  });

const s3Body = (content: Buffer) => Readable.from([content]) as unknown as GetObjectCommandOutput['Body'];

const expectOpenAIError = (
  result: APIGatewayProxyResult,
  status: number,
  expected: { param?: string | null; code?: string | null; message?: unknown } = {},
) => {
  expect(result.statusCode).toBe(status);
  const body = bodyOf<{ error: Record<string, unknown> }>(result);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error).toMatchObject({
    type: 'invalid_request_error',
    message: expect.any(String),
    ...expected,
  });
  return body.error;
};

describe('POST /v1/files', () => {
  beforeEach(() => {
    s3.on(PutObjectCommand).resolves({});
    ddb.on(PutCommand).resolves({});
  });

  it('stores a multipart upload in S3 and records it in DynamoDB, answering the OpenAI file object', async () => {
    const result = await call(upload());
    expect(result.statusCode).toBe(200);
    const file = bodyOf<FileObject>(result);
    expect(file).toEqual({
      id: expect.stringMatching(/^file-[0-9a-z]{26}$/),
      object: 'file',
      bytes: JSONL.length,
      created_at: NOW_S,
      expires_at: NOW_S + 7 * 86_400,
      filename: 'requests.jsonl',
      purpose: 'batch',
      status: 'processed',
      status_details: null,
    });

    const puts = s3.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    const put = puts[0]?.args[0].input;
    expect(put?.Bucket).toBe(AWS_TEST_ENV.FILES_BUCKET);
    expect(put?.Key).toBe(`acme/files/${file.id}.jsonl`);
    expect(Buffer.from(put?.Body as Buffer).equals(JSONL)).toBe(true);

    const items = ddb.commandCalls(PutCommand);
    expect(items).toHaveLength(1);
    expect(items[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.FILES_TABLE,
      Item: {
        tenant: 'acme',
        id: file.id,
        filename: 'requests.jsonl',
        purpose: 'batch',
        bytes: JSONL.length,
        created_at: NOW_S,
        expires_at: NOW_S + 7 * 86_400,
        s3_key: `acme/files/${file.id}.jsonl`,
        // The key of the sparse index the expiry sweep reads.
        expiring: 'yes',
        // Its lines validated and planned at upload (core/chunks/file-plan.ts): one chunk of two requests.
        plan: expect.stringContaining(`"total":2,`),
      },
    });
    expect(s3.calls()).toHaveLength(1);
    expect(ddb.calls()).toHaveLength(1);
  });

  it('writes the object before the record, so a listed file always has content', async () => {
    const order: string[] = [];
    s3.on(PutObjectCommand).callsFake(async () => {
      order.push('s3');
      return {};
    });
    ddb.on(PutCommand).callsFake(async () => {
      order.push('dynamodb');
      return {};
    });
    await call(upload());
    expect(order).toEqual(['s3', 'dynamodb']);
  });

  it('keeps binary content byte for byte (CRLF, multi-byte UTF-8, a NUL)', async () => {
    const content = Buffer.concat([
      Buffer.from('{"a":"€"}\r\n'),
      Buffer.from([0x00, 0xff]),
      Buffer.from('\r\n'),
    ]);
    expect((await call(upload(content))).statusCode).toBe(200);
    expect(
      Buffer.from(s3.commandCalls(PutObjectCommand)[0]?.args[0].input.Body as Buffer).equals(content),
    ).toBe(true);
  });

  it('accepts a file of exactly the upload limit (the limit is the largest size allowed)', async () => {
    const result = await call(upload(Buffer.alloc(MAX_UPLOAD, 0x61)));
    expect(result.statusCode).toBe(200);
    expect(bodyOf<FileObject>(result).bytes).toBe(MAX_UPLOAD);
  });

  it('reads a lower-case content-type header too', async () => {
    const event = multipartEvent(
      [
        { name: 'purpose', value: 'batch' },
        { name: 'file', value: JSONL, filename: 'x.jsonl' },
      ],
      { headerName: 'content-type' },
    );
    expect((await call(event)).statusCode).toBe(200);
  });

  it('names a file part without a filename upload.jsonl', async () => {
    const event = multipartEvent([
      { name: 'purpose', value: 'batch' },
      { name: 'file', value: JSONL, filename: '', contentType: 'application/octet-stream' },
    ]);
    const result = await call(event);
    expect(result.statusCode).toBe(200);
    expect(bodyOf<FileObject>(result).filename).toBe('upload.jsonl');
  });

  it.each(['fine-tune', 'assistants', 'batch_output'])(
    "answers 400 with param purpose for purpose '%s', storing nothing",
    async (purpose) => {
      const error = expectOpenAIError(await call(upload(JSONL, purpose)), 400, { param: 'purpose' });
      expect(error.message).toContain(purpose);
      expect(s3.calls()).toHaveLength(0);
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('answers 400 with param purpose when purpose is missing', async () => {
    expectOpenAIError(await call(upload(JSONL, null)), 400, { param: 'purpose' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 413 pointing to /v1/uploads for a file over the upload limit, storing nothing', async () => {
    const error = expectOpenAIError(await call(upload(Buffer.alloc(MAX_UPLOAD + 1, 0x61))), 413, {
      param: 'file',
      code: 'file_too_large',
    });
    expect(error.message).toContain('/v1/uploads');
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 400 with param file when the file field is missing', async () => {
    const event = multipartEvent([{ name: 'purpose', value: 'batch' }]);
    expectOpenAIError(await call(event), 400, { param: 'file' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 400 with param file when the file comes under another field name', async () => {
    const event = multipartEvent([
      { name: 'purpose', value: 'batch' },
      { name: 'document', value: JSONL, filename: 'x.jsonl' },
    ]);
    expectOpenAIError(await call(event), 400, { param: 'file' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 400 for a JSON body instead of multipart', async () => {
    const event = apiEvent({
      method: 'POST',
      path: '/v1/files',
      headers: { 'content-type': 'application/json' },
      body: '{"purpose":"batch"}',
    });
    expectOpenAIError(await call(event), 400);
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 400, not 500, for a multipart content type without a boundary', async () => {
    const event = upload();
    event.headers = { 'Content-Type': 'multipart/form-data' };
    expectOpenAIError(await call(event), 400);
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 500 with a generic message when S3 fails, and records nothing', async () => {
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('Access Denied for bucket test-files-bucket'), { name: 'AccessDenied' }),
    );
    const result = await call(upload());
    expect(result.statusCode).toBe(500);
    expect(bodyOf<{ error: { message: string; type: string } }>(result).error).toEqual({
      message: 'The server had an error while processing your request.',
      type: 'server_error',
      param: null,
      code: null,
    });
    expect(result.body).not.toContain('test-files-bucket');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /v1/files/{file_id}/content', () => {
  it('answers a small file inline, byte for byte', async () => {
    ddb.on(GetCommand).resolves({ Item: stored() });
    s3.on(GetObjectCommand).resolves({ Body: s3Body(JSONL) });
    const result = await call(fileEvent('GET', 'file-abc', '/content'));
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/octet-stream');
    expect(result.headers?.['content-disposition']).toBe(`attachment; filename="${stored().filename}"`);
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.from(result.body, 'base64').equals(JSONL)).toBe(true);

    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.FILES_TABLE,
      Key: { tenant: 'acme', id: 'file-abc' },
    });
    const gets = s3.commandCalls(GetObjectCommand);
    expect(gets).toHaveLength(1);
    expect(gets[0]?.args[0].input).toEqual({
      Bucket: AWS_TEST_ENV.FILES_BUCKET,
      Key: 'acme/files/file-abc.jsonl',
    });
  });

  it('answers a file of exactly the inline limit inline', async () => {
    const content = Buffer.alloc(MAX_INLINE, 0x62);
    ddb.on(GetCommand).resolves({ Item: stored({ bytes: MAX_INLINE }) });
    s3.on(GetObjectCommand).resolves({ Body: s3Body(content) });
    const result = await call(fileEvent('GET', 'file-abc', '/content'));
    expect(result.statusCode).toBe(200);
    expect(Buffer.from(result.body, 'base64')).toHaveLength(MAX_INLINE);
  });

  it('redirects to a pre-signed S3 URL for a file above the inline limit, without reading it', async () => {
    ddb.on(GetCommand).resolves({ Item: stored({ bytes: MAX_INLINE + 1, filename: 'big "q".jsonl' }) });
    const result = await call(fileEvent('GET', 'file-abc', '/content'));
    expect(result.statusCode).toBe(302);
    const location = new URL(String(result.headers?.location));
    expect(location.hostname).toContain(AWS_TEST_ENV.FILES_BUCKET);
    expect(location.pathname).toBe('/acme/files/file-abc.jsonl');
    expect(location.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(location.searchParams.get('X-Amz-Expires')).toBe('300');
    // The quote survives, escaped as RFC 6266 wants, on the redirect and on S3's answer alike.
    expect(location.searchParams.get('response-content-disposition')).toBe(
      'attachment; filename="big \\"q\\".jsonl"',
    );
    expect(result.headers?.['content-disposition']).toBe('attachment; filename="big \\"q\\".jsonl"');
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('names a non-ASCII download in both forms (ASCII fallback and UTF-8)', async () => {
    ddb.on(GetCommand).resolves({ Item: stored({ filename: 'résumé.jsonl' }) });
    s3.on(GetObjectCommand).resolves({ Body: s3Body(JSONL) });
    const result = await call(fileEvent('GET', 'file-abc', '/content'));
    expect(result.headers?.['content-disposition']).toBe(
      `attachment; filename="r?sum?.jsonl"; filename*=UTF-8''r%C3%A9sum%C3%A9.jsonl`,
    );
  });

  it('answers 404 for an unknown file', async () => {
    ddb.on(GetCommand).resolves({});
    expectOpenAIError(await call(fileEvent('GET', 'file-missing', '/content')), 404);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('GET /v1/files/{file_id}', () => {
  it('answers the file object, without storage fields', async () => {
    ddb.on(GetCommand).resolves({ Item: stored() });
    const result = await call(fileEvent('GET', 'file-abc'));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      id: 'file-abc',
      object: 'file',
      bytes: JSONL.length,
      created_at: NOW_S - 100,
      expires_at: NOW_S + 7 * 86_400,
      filename: 'requests.jsonl',
      purpose: 'batch',
      status: 'processed',
      status_details: null,
    });
  });

  it('answers 404 naming the file for an unknown id', async () => {
    ddb.on(GetCommand).resolves({});
    const error = expectOpenAIError(await call(fileEvent('GET', 'file-missing')), 404);
    expect(error.message).toContain('file-missing');
  });
});

describe('DELETE /v1/files/{file_id}', () => {
  it('deletes the record and the object, answering the deletion status', async () => {
    ddb.on(GetCommand).resolves({ Item: stored() });
    ddb.on(DeleteCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    const result = await call(fileEvent('DELETE', 'file-abc'));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ id: 'file-abc', object: 'file', deleted: true });
    // Only while no running batch holds the file as its input.
    expect(ddb.commandCalls(DeleteCommand)[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.FILES_TABLE,
      Key: { tenant: 'acme', id: 'file-abc' },
      ConditionExpression: 'attribute_not_exists(in_use_by)',
    });
    expect(s3.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: AWS_TEST_ENV.FILES_BUCKET,
      Key: 'acme/files/file-abc.jsonl',
    });
  });

  it('answers 404 for an unknown file and deletes nothing', async () => {
    ddb.on(GetCommand).resolves({});
    expectOpenAIError(await call(fileEvent('DELETE', 'file-missing')), 404);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(0);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('GET /v1/files', () => {
  it('lists newest first by default, scoped to the tenant', async () => {
    ddb.on(QueryCommand).resolves({ Items: [stored({ id: 'file-2' }), stored({ id: 'file-1' })] });
    const result = await call(apiEvent({ method: 'GET', path: '/v1/files' }));
    expect(result.statusCode).toBe(200);
    const page = bodyOf<ListPage<FileObject>>(result);
    expect(page).toMatchObject({ object: 'list', first_id: 'file-2', last_id: 'file-1', has_more: false });
    expect(page.data.map((f) => f.id)).toEqual(['file-2', 'file-1']);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: AWS_TEST_ENV.FILES_TABLE,
      KeyConditionExpression: 'tenant = :t',
      ExpressionAttributeValues: { ':t': 'acme' },
      ScanIndexForward: false,
    });
  });

  it('filters by purpose, honours order=asc and limit, and reports has_more', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [stored({ id: 'file-1' }), stored({ id: 'file-2' }), stored({ id: 'file-3' })],
    });
    const result = await call(
      apiEvent({ method: 'GET', path: '/v1/files', query: { purpose: 'batch', order: 'asc', limit: '2' } }),
    );
    const page = bodyOf<ListPage<FileObject>>(result);
    expect(page.data.map((f) => f.id)).toEqual(['file-1', 'file-2']);
    expect(page.has_more).toBe(true);
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      FilterExpression: 'purpose = :p',
      ExpressionAttributeValues: { ':t': 'acme', ':p': 'batch' },
      ScanIndexForward: true,
      Limit: 3,
    });
  });

  it('answers 400 with param order for an unknown order', async () => {
    expectOpenAIError(
      await call(apiEvent({ method: 'GET', path: '/v1/files', query: { order: 'newest' } })),
      400,
      {
        param: 'order',
      },
    );
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('POST /v1/files: edge validation and expires_after', () => {
  beforeEach(() => {
    s3.on(PutObjectCommand).resolves({});
    ddb.on(PutCommand).resolves({});
  });

  const withFields = (fields: Record<string, string>, filename = 'requests.jsonl', content: Buffer = JSONL) =>
    multipartEvent([
      { name: 'purpose', value: 'batch' },
      ...Object.entries(fields).map(([name, value]) => ({ name, value })),
      { name: 'file', value: content, filename, contentType: 'application/octet-stream' },
    ]);

  it('takes expires_after as the SDKs send it (expires_after[anchor], expires_after[seconds]) and dates the file by it', async () => {
    const result = await call(
      withFields({ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600' }),
    );
    expect(result.statusCode).toBe(200);
    expect(bodyOf<FileObject>(result)).toMatchObject({ created_at: NOW_S, expires_at: NOW_S + 3_600 });
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ expires_at: NOW_S + 3_600 });
  });

  it('takes expires_after as one JSON field too (OpenAPI’s multipart encoding of an object)', async () => {
    const result = await call(withFields({ expires_after: '{"anchor":"created_at","seconds":2592000}' }));
    expect(result.statusCode).toBe(200);
    expect(bodyOf<FileObject>(result).expires_at).toBe(NOW_S + 2_592_000);
  });

  it.each([
    [{ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3599' }, 'expires_after.seconds'],
    [{ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '2592001' }, 'expires_after.seconds'],
    [{ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': 'an hour' }, 'expires_after.seconds'],
    [{ 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600.5' }, 'expires_after.seconds'],
    [{ 'expires_after[anchor]': 'created_at' }, 'expires_after.seconds'],
    [{ 'expires_after[seconds]': '3600' }, 'expires_after.anchor'],
    [{ 'expires_after[anchor]': 'last_used_at', 'expires_after[seconds]': '3600' }, 'expires_after.anchor'],
    [{ expires_after: 'soon' }, 'expires_after'],
  ])('answers 400 for expires_after %j, naming %s, storing nothing', async (fields, param) => {
    expectOpenAIError(await call(withFields(fields)), 400, { param });
    expect(s3.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 400 naming file for a 15,000-character file name, storing nothing', async () => {
    const error = expectOpenAIError(await call(withFields({}, `${'n'.repeat(15_000)}.jsonl`)), 400, {
      param: 'file',
    });
    expect(error.message).toMatch(/255 bytes/);
    expect(String(error.message).length).toBeLessThan(200);
    expect(s3.calls()).toHaveLength(0);
  });

  it('accepts a file name of exactly 255 bytes, multi-byte characters counted in bytes', async () => {
    const exact = `${'é'.repeat(100)}${'x'.repeat(49)}.jsonl`;
    expect(Buffer.byteLength(exact)).toBe(255);
    const result = await call(withFields({}, exact));
    expect(result.statusCode).toBe(200);
    expect(bodyOf<FileObject>(result).filename).toBe(exact);
    expectOpenAIError(await call(withFields({}, `x${exact}`)), 400, { param: 'file' });
  });

  it('answers 400 naming file for an empty file, storing nothing', async () => {
    expectOpenAIError(await call(upload(Buffer.alloc(0))), 400, { param: 'file' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 400 naming file for two file parts, storing neither', async () => {
    const event = multipartEvent([
      { name: 'purpose', value: 'batch' },
      { name: 'file', value: JSONL, filename: 'one.jsonl' },
      { name: 'file', value: JSONL, filename: 'two.jsonl' },
    ]);
    expectOpenAIError(await call(event), 400, { param: 'file' });
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 400 naming an unknown form field, as OpenAI does', async () => {
    const error = expectOpenAIError(await call(withFields({ model: 'gpt-4o' })), 400, { param: 'model' });
    expect(error.message).toBe('Unrecognized request argument supplied: model');
    expect(s3.calls()).toHaveLength(0);
  });

  it('answers 400 naming purpose for a purpose too long to echo', async () => {
    const error = expectOpenAIError(await call(upload(JSONL, 'p'.repeat(100_000))), 400, {
      param: 'purpose',
    });
    expect(String(error.message).length).toBeLessThan(200);
  });
});

describe('file ids in the path and the list cursor', () => {
  it.each([
    ['GET', ''],
    ['GET', '/content'],
    ['DELETE', ''],
  ] as const)(
    'answers 400 naming file_id for a %s%s id over 1,024 bytes, reading nothing',
    async (method, suffix) => {
      const error = expectOpenAIError(
        await call(fileEvent(method, `file-${'x'.repeat(1_100)}`, suffix)),
        400,
        {
          param: 'file_id',
          code: 'invalid_id',
        },
      );
      expect(String(error.message).length).toBeLessThan(200);
      expect(ddb.calls()).toHaveLength(0);
      expect(s3.calls()).toHaveLength(0);
    },
  );

  it('answers 400 naming file_id for a slash, dot-dot or broken percent-encoding in the path id', async () => {
    for (const raw of ['file-a%2Fb', '..', 'file-%ZZ', 'file-%00']) {
      expectOpenAIError(await call(fileEvent('GET', raw)), 400, { param: 'file_id' });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 404, not 400, for a well-formed id that names no file', async () => {
    ddb.on(GetCommand).resolves({});
    expectOpenAIError(await call(fileEvent('GET', 'file-nothing')), 404);
  });

  it.each([
    [{ after: 'x'.repeat(2_000) }, 'after'],
    [{ after: 'file-a/b' }, 'after'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '10001' }, 'limit'],
    [{ limit: 'abc' }, 'limit'],
    [{ purpose: 'p'.repeat(65) }, 'purpose'],
  ])('answers 400 for list parameters %j, naming %s', async (query, param) => {
    const event = apiEvent({ method: 'GET', path: '/v1/files', resource: '/v1/files', query });
    expectOpenAIError(await call(event), 400, { param });
    expect(ddb.calls()).toHaveLength(0);
  });
});
