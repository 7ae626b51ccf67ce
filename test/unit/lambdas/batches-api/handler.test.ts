import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeTime } from 'ulidx';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchRecord } from '../../../../core/batches/batch-record.js';
import type { BatchObject, ListPage } from '../../../../core/openai/schemas.js';
import { apiEvent, bodyOf, jsonEvent, lambdaContext } from '../../support/api-event.js';
import { AWS_TEST_ENV, setAwsTestEnv } from '../../support/aws-env.js';

type Handler = (event: APIGatewayProxyEvent, context: typeof lambdaContext) => Promise<APIGatewayProxyResult>;

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
let handler: Handler;

const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const NOW_S = Math.floor(NOW_MS / 1000);

beforeAll(async () => {
  setAwsTestEnv({ COMPLETION_WINDOWS: '24h,1h' });
  ({ handler } = (await import('../../../../lambdas/batches-api/handler.js')) as unknown as {
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
  sqs.reset();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const call = (event: APIGatewayProxyEvent) => handler(event, lambdaContext);

const inputFile = (overrides: Record<string, unknown> = {}) => ({
  tenant: 'acme',
  id: 'file-input',
  filename: 'requests.jsonl',
  purpose: 'batch',
  bytes: 1234,
  created_at: NOW_S - 60,
  expires_at: NOW_S + 86_400,
  s3_key: 'acme/files/file-input.jsonl',
  ...overrides,
});

const storedBatch = (overrides: Partial<BatchRecord> = {}): BatchRecord => ({
  tenant: 'acme',
  id: 'batch_existing',
  endpoint: '/v1/chat/completions',
  input_file_id: 'file-input',
  input_key: 'acme/files/file-input.jsonl',
  input_bytes: 2048,
  completion_window: '24h',
  status: 'in_progress',
  created_at: NOW_S - 3_600,
  in_progress_at: NOW_S - 3_500,
  expires_at: NOW_S + 82_800,
  total: 100,
  completed: 40,
  failed: 2,
  metadata: null,
  priority: 'normal',
  active: 'yes',
  ...overrides,
});

const createBody = (overrides: Record<string, unknown> = {}) => ({
  input_file_id: 'file-input',
  endpoint: '/v1/chat/completions',
  completion_window: '24h',
  ...overrides,
});

const batchEvent = (method: 'GET' | 'POST', batchId: string, suffix = '') =>
  apiEvent({
    method,
    path: `/v1/batches/${batchId}${suffix}`,
    resource: `/v1/batches/{batch_id}${suffix}`,
    pathParameters: { batch_id: batchId },
  });

const expectOpenAIError = (
  result: APIGatewayProxyResult,
  status: number,
  expected: { type?: string; param?: string | null; code?: string | null; message?: unknown } = {},
) => {
  expect(result.statusCode).toBe(status);
  expect(result.headers?.['content-type']).toBe('application/json');
  const body = bodyOf<{ error: Record<string, unknown> }>(result);
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error).toMatchObject({
    type: 'invalid_request_error',
    message: expect.any(String),
    ...expected,
  });
  return body.error;
};

describe('POST /v1/batches', () => {
  beforeEach(() => {
    ddb.on(GetCommand, { TableName: AWS_TEST_ENV.FILES_TABLE }).resolves({ Item: inputFile() });
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });

  it('creates a validating batch and answers 200 with the OpenAI batch object', async () => {
    const result = await call(
      jsonEvent('POST', '/v1/batches', createBody({ metadata: { project: 'search-eval' } })),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json');
    const batch = bodyOf<BatchObject>(result);
    expect(batch).toEqual({
      id: expect.stringMatching(/^batch_[0-9a-z]{26}$/),
      object: 'batch',
      endpoint: '/v1/chat/completions',
      errors: null,
      input_file_id: 'file-input',
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: NOW_S,
      in_progress_at: null,
      expires_at: NOW_S + 86_400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { project: 'search-eval' },
      usage: {
        input_tokens: 0,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 0,
      },
      openbatch: {
        priority: 'normal',
        sla: { deadline_at: NOW_S + 86_400, state: 'on_track' },
        pools: { spot: 0, dedicated: 0 },
        pool_group: null,
        route: null,
        chunks: { total: 0, done: 0, escalated: 0, interruptions: 0 },
        retry_of: null,
        retries: [],
        cost: {
          estimate: true,
          currency: 'usd',
          total: 0,
          by_pool: { spot: 0, dedicated: 0 },
          all_dedicated: 0,
          saving: 0,
          saved_by_reuse: 0,
          basis: expect.stringContaining('requests/s per task'),
        },
        dedup: 'on',
        reused: 0,
      },
    });
    expect(decodeTime(batch.id.slice('batch_'.length).toUpperCase())).toBe(NOW_MS);
  });

  it('sends exactly one message, to the scheduling queue, naming tenant and batch', async () => {
    const batch = bodyOf<BatchObject>(await call(jsonEvent('POST', '/v1/batches', createBody())));
    expect(sqs.calls()).toHaveLength(1);
    const sends = sqs.commandCalls(SendMessageCommand);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.args[0].input.QueueUrl).toBe(AWS_TEST_ENV.SCHEDULING_QUEUE_URL);
    expect(JSON.parse(sends[0]?.args[0].input.MessageBody ?? '')).toEqual({
      tenant: 'acme',
      batchId: batch.id,
    });
  });

  it('reads the input file of the caller tenant, holds it for the batch, then writes the batch once, conditionally', async () => {
    const batch = bodyOf<BatchObject>(await call(jsonEvent('POST', '/v1/batches', createBody(), 'tenant-b')));
    expect(ddb.calls()).toHaveLength(3);
    const holds = ddb.commandCalls(UpdateCommand);
    expect(holds.map((c) => c.args[0].input)).toEqual([
      {
        TableName: AWS_TEST_ENV.FILES_TABLE,
        Key: { tenant: 'tenant-b', id: 'file-input' },
        UpdateExpression: 'ADD in_use_by :b',
        ConditionExpression: 'attribute_exists(id)',
        ExpressionAttributeValues: { ':b': new Set([batch.id]) },
      },
    ]);

    const gets = ddb.commandCalls(GetCommand);
    expect(gets).toHaveLength(1);
    expect(gets[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.FILES_TABLE,
      Key: { tenant: 'tenant-b', id: 'file-input' },
    });

    const puts = ddb.commandCalls(PutCommand);
    expect(puts).toHaveLength(1);
    const put = puts[0]?.args[0].input;
    expect(put?.TableName).toBe(AWS_TEST_ENV.BATCHES_TABLE);
    expect(put?.ConditionExpression).toBe('attribute_not_exists(id)');
    expect(put?.Item).toEqual({
      tenant: 'tenant-b',
      id: batch.id,
      endpoint: '/v1/chat/completions',
      input_file_id: 'file-input',
      input_key: 'acme/files/file-input.jsonl',
      input_bytes: 1234,
      completion_window: '24h',
      status: 'validating',
      created_at: NOW_S,
      expires_at: NOW_S + 86_400,
      total: 0,
      completed: 0,
      failed: 0,
      metadata: null,
      priority: 'normal',
      active: 'yes',
      dedup: 'on',
    });
  });

  it('writes the batch before announcing it on the queue', async () => {
    const order: string[] = [];
    ddb.on(PutCommand).callsFake(async () => {
      order.push('put');
      return {};
    });
    sqs.on(SendMessageCommand).callsFake(async () => {
      order.push('send');
      return {};
    });
    await call(jsonEvent('POST', '/v1/batches', createBody()));
    expect(order).toEqual(['put', 'send']);
  });

  it('accepts another configured completion window and a high priority', async () => {
    const batch = bodyOf<BatchObject>(
      await call(jsonEvent('POST', '/v1/batches', createBody({ completion_window: '1h', priority: 'high' }))),
    );
    expect(batch.expires_at).toBe(NOW_S + 3_600);
    expect(batch.openbatch.priority).toBe('high');
  });

  it('accepts a base64-encoded JSON body', async () => {
    const event = jsonEvent('POST', '/v1/batches', createBody());
    event.body = Buffer.from(event.body ?? '').toString('base64');
    event.isBase64Encoded = true;
    expect((await call(event)).statusCode).toBe(200);
  });

  it('answers 404 with an OpenAI error for an unknown input file, and writes nothing', async () => {
    ddb.on(GetCommand, { TableName: AWS_TEST_ENV.FILES_TABLE }).resolves({});
    const result = await call(jsonEvent('POST', '/v1/batches', createBody({ input_file_id: 'file-nope' })));
    expectOpenAIError(result, 404, {
      param: 'input_file_id',
      code: null,
      message: expect.stringContaining('file-nope'),
    });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it("answers 400 for an input file whose purpose is not 'batch'", async () => {
    ddb.on(GetCommand, { TableName: AWS_TEST_ENV.FILES_TABLE }).resolves({
      Item: inputFile({ purpose: 'batch_output' }),
    });
    expectOpenAIError(await call(jsonEvent('POST', '/v1/batches', createBody())), 400, {
      param: 'input_file_id',
    });
    expect(sqs.calls()).toHaveLength(0);
  });

  it.each(['/v1/images/generations', '/v1/moderations', 'chat/completions'])(
    'answers 400 with param endpoint for the unsupported endpoint %s, before any AWS call',
    async (endpoint) => {
      const result = await call(jsonEvent('POST', '/v1/batches', createBody({ endpoint })));
      expectOpenAIError(result, 400, { param: 'endpoint', message: expect.stringContaining(endpoint) });
      expect(ddb.calls()).toHaveLength(0);
      expect(sqs.calls()).toHaveLength(0);
    },
  );

  it.each(['48h', '2h', '2d', '0h', 'soon'])(
    'answers 400 with param completion_window for the unsupported window %s, before any AWS call',
    async (completion_window) => {
      const result = await call(jsonEvent('POST', '/v1/batches', createBody({ completion_window })));
      const error = expectOpenAIError(result, 400, { param: 'completion_window' });
      expect(error.message).toContain("'24h'");
      expect(ddb.calls()).toHaveLength(0);
      expect(sqs.calls()).toHaveLength(0);
    },
  );

  it.each(['input_file_id', 'endpoint', 'completion_window'])(
    'answers 400 naming %s when it is missing',
    async (field) => {
      const body: Record<string, unknown> = createBody();
      delete body[field];
      expectOpenAIError(await call(jsonEvent('POST', '/v1/batches', body)), 400, { param: field });
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('answers 400 for metadata with more than 16 keys', async () => {
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    expectOpenAIError(await call(jsonEvent('POST', '/v1/batches', createBody({ metadata }))), 400, {
      param: 'metadata',
    });
  });

  it('answers 400 for an unknown priority', async () => {
    expectOpenAIError(await call(jsonEvent('POST', '/v1/batches', createBody({ priority: 'urgent' }))), 400, {
      param: 'priority',
    });
  });

  it('answers 400 for a body that is not JSON, and for no body', async () => {
    const notJson = apiEvent({ method: 'POST', path: '/v1/batches', body: '{"input_file_id":' });
    expectOpenAIError(await call(notJson), 400, { param: null });
    expectOpenAIError(await call(apiEvent({ method: 'POST', path: '/v1/batches' })), 400, { param: null });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 500 with a generic message when DynamoDB fails unexpectedly, leaking nothing', async () => {
    const internal = Object.assign(
      new Error(
        'User: arn:aws:sts::123456789012:assumed-role/openbatch-api/fn is not authorized to perform: dynamodb:PutItem on resource: test-batches',
      ),
      { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } },
    );
    ddb.on(PutCommand).rejects(internal);
    const result = await call(jsonEvent('POST', '/v1/batches', createBody()));
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result)).toEqual({
      error: {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    });
    for (const leak of ['123456789012', 'AccessDenied', 'test-batches', 'dynamodb', 'arn:']) {
      expect(result.body).not.toContain(leak);
    }
    expect(sqs.calls()).toHaveLength(0);
    // The detail goes to the log instead.
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining('AccessDenied'));
  });

  it('answers 500 with a generic message when SQS fails', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('QueueDoesNotExist: test-scheduling'));
    const result = await call(jsonEvent('POST', '/v1/batches', createBody()));
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('test-scheduling');
  });

  it('answers 500, not 200, for a request that reached the handler without a tenant', async () => {
    const result = await call(jsonEvent('POST', '/v1/batches', createBody(), null));
    expect(result.statusCode).toBe(500);
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /v1/batches', () => {
  const list = (query?: Record<string, string>) =>
    call(apiEvent({ method: 'GET', path: '/v1/batches', ...(query ? { query } : {}) }));

  it('lists newest first, a page of `limit`, with has_more when DynamoDB holds one more', async () => {
    const items = ['batch_c', 'batch_b', 'batch_a'].map((id) => storedBatch({ id }));
    ddb.on(QueryCommand).resolves({ Items: items });
    const result = await list({ limit: '2' });
    expect(result.statusCode).toBe(200);
    const page = bodyOf<ListPage<BatchObject>>(result);
    expect(page).toMatchObject({ object: 'list', first_id: 'batch_c', last_id: 'batch_b', has_more: true });
    expect(page.data.map((b) => b.id)).toEqual(['batch_c', 'batch_b']);
    expect(page.data[0]?.object).toBe('batch');

    const queries = ddb.commandCalls(QueryCommand);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.BATCHES_TABLE,
      KeyConditionExpression: 'tenant = :t',
      ExpressionAttributeValues: { ':t': 'acme' },
      ScanIndexForward: false,
      Limit: 3,
    });
  });

  it('answers has_more false on the last page', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [storedBatch({ id: 'batch_b' }), storedBatch({ id: 'batch_a' })] });
    const page = bodyOf<ListPage<BatchObject>>(await list({ limit: '2' }));
    expect(page.has_more).toBe(false);
    expect(page.data).toHaveLength(2);
  });

  it('continues after the given batch id', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await list({ after: 'batch_b', limit: '5' });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      ExclusiveStartKey: { tenant: 'acme', id: 'batch_b' },
      Limit: 6,
      ScanIndexForward: false,
    });
  });

  it('defaults to 20 per page and answers an empty list with null ids', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    expect(bodyOf(await list())).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.Limit).toBe(21);
  });

  it.each(['0', '101', 'ten', '2.5'])('answers 400 with param limit for limit=%s', async (limit) => {
    expectOpenAIError(await list({ limit }), 400, { param: 'limit' });
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('GET /v1/batches/{batch_id}', () => {
  it("answers the caller's batch, read consistently by tenant and id", async () => {
    ddb.on(GetCommand).resolves({ Item: storedBatch({ model: 'llama-3', chunk_count: 4, chunks_done: 1 }) });
    const result = await call(batchEvent('GET', 'batch_existing'));
    expect(result.statusCode).toBe(200);
    expect(bodyOf<BatchObject>(result)).toMatchObject({
      id: 'batch_existing',
      status: 'in_progress',
      request_counts: { total: 100, completed: 40, failed: 2 },
      model: 'llama-3',
      openbatch: { chunks: { total: 4, done: 1 } },
    });
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.BATCHES_TABLE,
      Key: { tenant: 'acme', id: 'batch_existing' },
      ConsistentRead: true,
    });
  });

  it('answers 404 with an OpenAI error for an unknown batch', async () => {
    ddb.on(GetCommand).resolves({});
    const error = expectOpenAIError(await call(batchEvent('GET', 'batch_missing')), 404, {
      param: 'batch_id',
    });
    expect(error.message).toContain('batch_missing');
  });

  it('answers 500 with a generic message when DynamoDB throttles', async () => {
    ddb.on(GetCommand).rejects(
      Object.assign(new Error('Rate exceeded for table test-batches'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );
    const result = await call(batchEvent('GET', 'batch_existing'));
    expect(result.statusCode).toBe(500);
    expect(bodyOf<{ error: { type: string } }>(result).error.type).toBe('server_error');
    expect(result.body).not.toContain('test-batches');
  });
});

describe('POST /v1/batches/{batch_id}/cancel', () => {
  it('moves an in-progress batch to cancelling and asks the finalizer to wrap it up', async () => {
    ddb.on(GetCommand).resolves({ Item: storedBatch() });
    ddb.on(UpdateCommand).resolves({
      Attributes: storedBatch({ status: 'cancelling', cancelling_at: NOW_S, end_reason: 'cancelled' }),
    });
    sqs.on(SendMessageCommand).resolves({});
    const result = await call(batchEvent('POST', 'batch_existing', '/cancel'));
    expect(result.statusCode).toBe(200);
    expect(bodyOf<BatchObject>(result)).toMatchObject({ status: 'cancelling', cancelling_at: NOW_S });

    const updates = ddb.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    const update = updates[0]?.args[0].input;
    expect(update).toMatchObject({
      TableName: AWS_TEST_ENV.BATCHES_TABLE,
      Key: { tenant: 'acme', id: 'batch_existing' },
      ConditionExpression: '#status IN (:from0, :from1)',
    });
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':status': 'cancelling',
      ':cancelling_at': NOW_S,
      ':end_reason': 'cancelled',
      ':from0': 'validating',
      ':from1': 'in_progress',
    });
    const sends = sqs.commandCalls(SendMessageCommand);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.args[0].input.QueueUrl).toBe(AWS_TEST_ENV.FINALIZING_QUEUE_URL);
    expect(JSON.parse(sends[0]?.args[0].input.MessageBody ?? '')).toEqual({
      tenant: 'acme',
      batchId: 'batch_existing',
    });
  });

  it.each(['completed', 'failed', 'expired', 'finalizing'] as const)(
    'answers 409 for a %s batch and changes nothing',
    async (status) => {
      ddb.on(GetCommand).resolves({ Item: storedBatch({ status }) });
      const error = expectOpenAIError(await call(batchEvent('POST', 'batch_existing', '/cancel')), 409);
      expect(error.message).toContain(status);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(sqs.calls()).toHaveLength(0);
    },
  );

  it.each(['cancelling', 'cancelled'] as const)(
    'answers 200 with the batch as it is when it is already %s',
    async (status) => {
      ddb.on(GetCommand).resolves({ Item: storedBatch({ status }) });
      const result = await call(batchEvent('POST', 'batch_existing', '/cancel'));
      expect(result.statusCode).toBe(200);
      expect(bodyOf<BatchObject>(result).status).toBe(status);
      expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(sqs.calls()).toHaveLength(0);
    },
  );

  it('answers for the new status when the batch completed while the cancel was being written', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: storedBatch({ status: 'in_progress' }) })
      .resolves({ Item: storedBatch({ status: 'completed' }) });
    const conditionFailed = Object.assign(new Error('The conditional request failed'), {
      name: 'ConditionalCheckFailedException',
    });
    ddb.on(UpdateCommand).rejects(conditionFailed);
    expectOpenAIError(await call(batchEvent('POST', 'batch_existing', '/cancel')), 409);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('answers 404 for an unknown batch', async () => {
    ddb.on(GetCommand).resolves({});
    expectOpenAIError(await call(batchEvent('POST', 'batch_missing', '/cancel')), 404, { param: 'batch_id' });
  });
});

describe('GET /v1/openbatch/batches/{batch_id}/chunks', () => {
  it('lists chunk progress in chunk order, with defaults for counters not yet set', async () => {
    ddb.on(GetCommand).resolves({ Item: storedBatch() });
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          batch_key: 'acme#batch_existing',
          chunk: 1,
          status: 'done',
          requests: 2,
          completed: 2,
          failed: 0,
          pool: 'dedicated',
          escalated: true,
          interruptions: 1,
          lineStart: 3,
          lineEnd: 4,
          byteStart: 100,
          byteEnd: 200,
        },
        {
          batch_key: 'acme#batch_existing',
          chunk: 0,
          status: 'pending',
          requests: 2,
          lineStart: 1,
          lineEnd: 2,
          byteStart: 0,
          byteEnd: 100,
        },
      ],
    });
    const result = await call(
      apiEvent({
        method: 'GET',
        path: '/v1/openbatch/batches/batch_existing/chunks',
        resource: '/v1/openbatch/batches/{batch_id}/chunks',
        pathParameters: { batch_id: 'batch_existing' },
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      object: 'list',
      data: [
        {
          object: 'batch.chunk',
          chunk: 0,
          status: 'pending',
          requests: 2,
          completed: 0,
          failed: 0,
          pool: null,
          escalated: false,
          interruptions: 0,
          line_start: 1,
          line_end: 2,
        },
        {
          object: 'batch.chunk',
          chunk: 1,
          status: 'done',
          requests: 2,
          completed: 2,
          failed: 0,
          pool: 'dedicated',
          escalated: true,
          interruptions: 1,
          line_start: 3,
          line_end: 4,
        },
      ],
      first_id: null,
      last_id: null,
      has_more: false,
    });
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: AWS_TEST_ENV.CHUNKS_TABLE,
      ExpressionAttributeValues: { ':k': 'acme#batch_existing' },
    });
  });

  it("answers 404 for another tenant's or an unknown batch, without reading chunks", async () => {
    ddb.on(GetCommand).resolves({});
    const result = await call(
      apiEvent({
        method: 'GET',
        path: '/v1/openbatch/batches/batch_x/chunks',
        pathParameters: { batch_id: 'batch_x' },
      }),
    );
    expectOpenAIError(result, 404, { param: 'batch_id' });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });
});

describe('routing', () => {
  it('answers 404 in OpenAI error shape for an unknown path', async () => {
    const error = expectOpenAIError(await call(apiEvent({ method: 'GET', path: '/v1/nothing-here' })), 404);
    expect(error.message).toBe('Unknown request URL.');
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('edge validation: bad input is a 400 naming the parameter, before any storage call', () => {
  beforeEach(() => {
    ddb.on(GetCommand, { TableName: AWS_TEST_ENV.FILES_TABLE }).resolves({ Item: inputFile() });
    ddb.on(PutCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });

  it.each([
    ['an empty key', { '': 'x' }, /must not be empty/],
    ['a key over 64 characters', { ['k'.repeat(65)]: 'x' }, /longer than 64/],
    ['a value over 512 characters', { k: 'v'.repeat(513) }, /longer than 512/],
    ['a number value', { k: 1 }, /must be strings/],
    ['a nested object value', { k: { deep: 'x' } }, /must be strings/],
    ['an array', ['a', 'b'], /object/],
    ['a string', 'team=search', /object/],
  ])(
    'answers 400 naming metadata for %s (DynamoDB refuses an empty attribute name)',
    async (_, metadata, message) => {
      const error = expectOpenAIError(
        await call(jsonEvent('POST', '/v1/batches', createBody({ metadata }))),
        400,
        {
          param: 'metadata',
        },
      );
      expect(error.message).toMatch(message);
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('accepts metadata at its limits: 16 pairs, 64-character keys, 512-character values', async () => {
    const metadata = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`${i}`.padStart(64, 'k'), 'v'.repeat(512)]),
    );
    const result = await call(jsonEvent('POST', '/v1/batches', createBody({ metadata })));
    expect(result.statusCode).toBe(200);
    expect(bodyOf<BatchObject>(result).metadata).toEqual(metadata);
  });

  it.each([
    ['longer than 1,024 bytes', 'file-'.padEnd(1_500, 'x')],
    ['129 characters', `file-${'x'.repeat(124)}`],
    ['holding a slash', 'file-a/../b'],
    ['holding a space', 'file abc'],
    ['empty', ''],
  ])('answers 400 naming input_file_id for an id %s, reading nothing', async (_, id) => {
    expectOpenAIError(await call(jsonEvent('POST', '/v1/batches', createBody({ input_file_id: id }))), 400, {
      param: 'input_file_id',
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    ['GET', ''],
    ['POST', '/cancel'],
    ['GET', '/chunks'],
  ] as const)(
    'answers 400 naming batch_id for a %s%s path id over 1,024 bytes, reading nothing',
    async (method, suffix) => {
      const id = `batch_${'x'.repeat(2_000)}`;
      const event =
        suffix === '/chunks'
          ? apiEvent({
              method,
              path: `/v1/openbatch/batches/${id}/chunks`,
              resource: '/v1/openbatch/batches/{batch_id}/chunks',
              pathParameters: { batch_id: id },
            })
          : batchEvent(method, id, suffix);
      expectOpenAIError(await call(event), 400, { param: 'batch_id', code: 'invalid_id' });
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('answers 400 naming batch_id for an encoded slash or dot-dot in the path id', async () => {
    for (const raw of ['batch_a%2F..%2Fb', '..', '%2e%2e', 'batch_%ZZ']) {
      expectOpenAIError(await call(batchEvent('GET', raw)), 400, { param: 'batch_id' });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 400 naming after for a cursor that is no batch id', async () => {
    const list = (after: string) =>
      call(apiEvent({ method: 'GET', path: '/v1/batches', resource: '/v1/batches', query: { after } }));
    for (const after of ['x'.repeat(1_025), 'batch_a/b', '']) {
      expectOpenAIError(await list(after), 400, { param: 'after' });
    }
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 400 naming an argument OpenAI does not know, as OpenAI does', async () => {
    const error = expectOpenAIError(
      await call(jsonEvent('POST', '/v1/batches', createBody({ input_file: 'file-input' }))),
      400,
      { param: 'input_file' },
    );
    expect(error.message).toBe('Unrecognized request argument supplied: input_file');
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"input"'],
    ['null', 'null'],
  ])('answers 400 for a JSON body that is %s, not an object', async (_, body) => {
    const event = apiEvent({
      method: 'POST',
      path: '/v1/batches',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(expectOpenAIError(await call(event), 400, { param: null }).message).toMatch(/JSON object/);
  });

  it('answers 415 for a body sent as another content type, and reads JSON sent with none', async () => {
    const as = (headers: Record<string, string>) =>
      call(apiEvent({ method: 'POST', path: '/v1/batches', headers, body: JSON.stringify(createBody()) }));
    expectOpenAIError(await as({ 'content-type': 'text/plain' }), 415, { code: 'unsupported_media_type' });
    expectOpenAIError(await as({ 'Content-Type': 'application/x-www-form-urlencoded' }), 415);
    expect((await as({})).statusCode).toBe(200);
    expect((await as({ 'content-type': 'application/json; charset=utf-8' })).statusCode).toBe(200);
  });

  it('stores output_expires_after on the batch, for the finalizer to date the result files by', async () => {
    const output_expires_after = { anchor: 'created_at', seconds: 7_200 };
    const result = await call(jsonEvent('POST', '/v1/batches', createBody({ output_expires_after })));
    expect(result.statusCode).toBe(200);
    expect(ddb.commandCalls(PutCommand)[0]?.args[0].input.Item).toMatchObject({ output_expires_after });
  });

  it.each([
    [{ anchor: 'created_at', seconds: 3_599 }, 'output_expires_after.seconds'],
    [{ anchor: 'created_at', seconds: 2_592_001 }, 'output_expires_after.seconds'],
    [{ anchor: 'created_at', seconds: '3600' }, 'output_expires_after.seconds'],
    [{ anchor: 'completed_at', seconds: 3_600 }, 'output_expires_after.anchor'],
    [{ seconds: 3_600 }, 'output_expires_after.anchor'],
    ['24h', 'output_expires_after'],
  ])('answers 400 for output_expires_after %j, naming %s', async (output_expires_after, param) => {
    expectOpenAIError(
      await call(jsonEvent('POST', '/v1/batches', createBody({ output_expires_after }))),
      400,
      {
        param,
      },
    );
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('per-request view and retry routes: input checked at the edge', () => {
  const requests = (query: Record<string, string>) =>
    apiEvent({
      method: 'GET',
      path: '/v1/openbatch/batches/batch_existing/requests',
      resource: '/v1/openbatch/batches/{batch_id}/requests',
      pathParameters: { batch_id: 'batch_existing' },
      query,
    });
  const retry = (body: string | null) =>
    apiEvent({
      method: 'POST',
      path: '/v1/openbatch/batches/batch_existing/retry',
      resource: '/v1/openbatch/batches/{batch_id}/retry',
      pathParameters: { batch_id: 'batch_existing' },
      headers: { 'content-type': 'application/json' },
      body,
    });

  it.each([
    [{ after: 'batch_1' }, 'after'],
    [{ after: 'line_0' }, 'after'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ status: 'done' }, 'status'],
    [{ custom_id: 'x'.repeat(1025) }, 'custom_id'],
    [{ order: 'asc' }, 'order'],
  ])('answers 400 for the list query %j, naming %s, before any AWS call', async (query, param) => {
    const result = await call(requests(query));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { type: 'invalid_request_error', param } });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 400 for a custom_id path parameter longer than 1,024 characters', async () => {
    const id = 'x'.repeat(1025);
    const result = await call(
      apiEvent({
        method: 'GET',
        path: `/v1/openbatch/batches/batch_existing/requests/${id}`,
        resource: '/v1/openbatch/batches/{batch_id}/requests/{custom_id}',
        pathParameters: { batch_id: 'batch_existing', custom_id: id },
      }),
    );
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { type: 'invalid_request_error', param: 'custom_id' } });
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    ['{"error_codes":"server_error"}', 'error_codes'],
    ['{"http_statuses":[42]}', 'http_statuses.0'],
    ['{"custom_ids":[]}', 'custom_ids'],
    ['{"statuses":["running"]}', 'statuses.0'],
    ['{"everything":true}', 'everything'],
  ])('answers 400 for the retry body %s, naming %s', async (body, param) => {
    const result = await call(retry(body));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result)).toMatchObject({ error: { type: 'invalid_request_error', param } });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 409 in OpenAI shape for a retry of a batch still running (no body: the default filter)', async () => {
    ddb.on(GetCommand).resolves({ Item: storedBatch() });
    ddb.on(QueryCommand).resolves({ Items: [] });
    const result = await call(retry(null));
    expect(result.statusCode).toBe(409);
    expect(bodyOf(result)).toEqual({
      error: {
        message:
          "Cannot retry a batch with status 'in_progress': only completed, expired and cancelled batches can be retried.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
  });

  it('lists nothing for a batch without chunk records yet', async () => {
    ddb.on(GetCommand).resolves({ Item: storedBatch({ status: 'validating' }) });
    ddb.on(QueryCommand).resolves({ Items: [] });
    const result = await call(requests({ limit: '5' }));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      object: 'list',
      data: [],
      first_id: null,
      last_id: null,
      has_more: false,
    });
  });
});
