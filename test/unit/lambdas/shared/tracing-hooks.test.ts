import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTracing, stopTracing } from '../../../../core/observability/tracing.js';
import { httpApi, json } from '../../../../lambdas/shared/http.js';
import { queueFunction } from '../../../../lambdas/shared/queue.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';

/** The wrappers' calls into core/observability/tracing.ts, with tracing on as the CDK app sets it. */
const invocation = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=aaaaaaaaaaaaaaaa;Sampled=1';
const sender = 'Root=1-6759e988-000000000000000000000001;Parent=bbbbbbbbbbbbbbbb;Sampled=1';

let spans: InMemorySpanExporter;
beforeEach(() => {
  vi.stubEnv('OPENBATCH_METRICS', 'off');
  vi.stubEnv('_X_AMZN_TRACE_ID', invocation);
  spans = new InMemorySpanExporter();
  startTracing(
    'openbatch-prod-batches-api',
    { OPENBATCH_TRACING: 'xray', AWS_LAMBDA_FUNCTION_NAME: 'x' },
    spans,
  );
});
afterEach(async () => {
  await stopTracing();
  vi.unstubAllEnvs();
});

describe('httpApi', () => {
  const api = httpApi([
    {
      method: 'GET',
      path: '/v1/batches/{batch_id}',
      handler: async () => json(200, { id: 'batch_1', object: 'batch' }),
    },
    {
      method: 'POST',
      path: '/v1/batches',
      handler: async () => json(200, { id: 'batch_new', object: 'batch', status: 'validating' }),
    },
  ]);

  it("runs each request in a span under the invocation's segment, named after its route, with tenant and batch", async () => {
    await api(
      apiEvent({
        method: 'GET',
        path: '/v1/batches/batch_1',
        resource: '/v1/batches/{batch_id}',
        pathParameters: { batch_id: 'batch_1' },
      }),
      lambdaContext,
    );
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('GET /v1/batches/{batch_id}');
    expect(span?.parentSpanContext?.spanId).toBe('aaaaaaaaaaaaaaaa');
    expect(span?.attributes).toMatchObject({ tenant: 'acme', batch_id: 'batch_1' });
  });

  it('annotates a create with the batch it made', async () => {
    await api(apiEvent({ method: 'POST', path: '/v1/batches', body: '{}' }), lambdaContext);
    expect(spans.getFinishedSpans()[0]?.attributes).toMatchObject({ tenant: 'acme', batch_id: 'batch_new' });
  });
});

describe('queueFunction', () => {
  it("runs each record in a span with its batch, linked to its sender's trace", async () => {
    const fn = queueFunction(
      'scheduler',
      (body) => JSON.parse(body) as { tenant: string; batchId: string },
      async () => 'done',
    );
    const event = {
      Records: [
        {
          messageId: 'm1',
          body: JSON.stringify({ tenant: 't1', batchId: 'batch_7' }),
          attributes: { AWSTraceHeader: sender },
        },
      ],
    } as unknown as SQSEvent;
    await fn(event, { ...lambdaContext, awsRequestId: 'invocation-1' } as Context);
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('scheduler');
    expect(span?.attributes).toMatchObject({ tenant: 't1', batch_id: 'batch_7' });
    expect(span?.parentSpanContext?.spanId).toBe('aaaaaaaaaaaaaaaa');
    expect(span?.links[0]?.context.spanId).toBe('bbbbbbbbbbbbbbbb');
  });
});
