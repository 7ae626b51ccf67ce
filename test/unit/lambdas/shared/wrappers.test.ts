import type { Context, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BadRequestError } from '../../../../core/errors.js';
import { captureLogs, log } from '../../../../core/observability/log.js';
import { forwardMetrics, type MetricFlush } from '../../../../core/observability/metrics.js';
import { httpApi, json } from '../../../../lambdas/shared/http.js';
import { queueFunction } from '../../../../lambdas/shared/queue.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';

// Every level, and EMF lines on stdout as on ECS and locally (both read when the modules load).
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'debug';
  process.env.AWS_EMF_ENVIRONMENT = 'Local';
});

let lines: Record<string, unknown>[];
let flushes: MetricFlush[];
let restore: () => void;
beforeEach(() => {
  lines = [];
  flushes = [];
  restore = captureLogs((l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  vi.stubEnv('OPENBATCH_METRICS', 'on');
  vi.spyOn(console, 'log').mockImplementation(() => {});
  forwardMetrics((f) => flushes.push(f));
});
afterEach(() => {
  restore();
  forwardMetrics(undefined);
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const api = httpApi([
  {
    method: 'GET',
    path: '/v1/batches/{batch_id}',
    handler: async () => {
      log.debug('inside');
      return json(200, { ok: true });
    },
  },
  {
    method: 'POST',
    path: '/v1/batches',
    handler: async () => {
      throw new BadRequestError('no');
    },
  },
]);

describe('httpApi', () => {
  it('logs under the request context and emits one flush per request by route and status', async () => {
    const res = await api(
      apiEvent({
        method: 'GET',
        path: '/v1/batches/batch_1',
        resource: '/v1/batches/{batch_id}',
        pathParameters: { batch_id: 'batch_1' },
      }),
      lambdaContext,
    );
    expect(res.statusCode).toBe(200);
    const context = {
      function: 'unit',
      awsRequestId: 'unit-request',
      route: 'GET /v1/batches/{batch_id}',
      tenant: 'acme',
      batchId: 'batch_1',
      coldStart: expect.any(Boolean),
    };
    expect(lines.find((l) => l.msg === 'inside')).toMatchObject(context);
    expect(lines.find((l) => l.msg === 'request')).toMatchObject({ ...context, level: 'info', status: 200 });
    expect(flushes).toHaveLength(1);
    expect(flushes[0]?.dimensions).toEqual({
      Function: 'api',
      Route: 'GET /v1/batches/{batch_id}',
      Status: '200',
    });
    expect(flushes[0]?.metrics.map((m) => [m.name, m.unit, m.values.length])).toEqual([
      ['ApiRequests', 'Count', 1],
      ['ApiLatency', 'Milliseconds', 1],
    ]);
  });

  it('counts an error answer under its status', async () => {
    const res = await api(apiEvent({ method: 'POST', path: '/v1/batches', body: '{}' }), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(flushes[0]?.dimensions).toEqual({ Function: 'api', Route: 'POST /v1/batches', Status: '400' });
  });
});

const record = (messageId: string, body: unknown) =>
  ({
    messageId,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  }) as SQSEvent['Records'][number];

describe('queueFunction', () => {
  it('logs each record under its own message, tenant, batch and chunk, even when they interleave', async () => {
    const fn = queueFunction(
      'unit-queue',
      (body) =>
        JSON.parse(body) as { tenant: string; batchId: string; chunk?: number; fail?: boolean; wait: number },
      async (m) => {
        await new Promise((r) => setTimeout(r, m.wait));
        log.debug('working');
        if (m.fail) throw new Error('broken');
        return 'done';
      },
    );
    const out = await fn(
      {
        Records: [
          record('m1', { tenant: 't1', batchId: 'b1', chunk: 3, wait: 20 }),
          record('m2', { tenant: 't2', batchId: 'b2', wait: 1 }),
          record('m3', { tenant: 't3', batchId: 'b3', wait: 5, fail: true }),
          record('m4', '{"not json'),
        ],
      },
      { ...lambdaContext, awsRequestId: 'invocation-1' } as Context,
    );
    expect(out.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m3', 'm4']);
    // Each line under its own record's context, whatever order the timers fired in (under load
    // they need not fire in the order of their waits).
    const working = lines
      .filter((l) => l.msg === 'working')
      .map((l) => [l.messageId, l.tenant, l.batchId, l.chunk])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(working).toEqual([
      ['m1', 't1', 'b1', 3],
      ['m2', 't2', 'b2', undefined],
      ['m3', 't3', 'b3', undefined],
    ]);
    expect(lines.find((l) => l.msg === 'unit-queue handled' && l.messageId === 'm1')).toMatchObject({
      awsRequestId: 'invocation-1',
      function: 'unit',
      outcome: 'done',
    });
    expect(lines.find((l) => l.msg === 'unit-queue record failed' && l.messageId === 'm3')).toMatchObject({
      level: 'error',
      batchId: 'b3',
      err: { message: 'broken' },
    });
    expect(lines.find((l) => l.msg === 'unit-queue record failed' && l.messageId === 'm4')).toMatchObject({
      level: 'error',
    });
    // A message body is never logged, not even quoted in a parse error.
    expect(JSON.stringify(lines)).not.toContain('not json');
  });
});
