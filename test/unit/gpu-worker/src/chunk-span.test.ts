import { type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { flushTraces, startTracing, stopTracing } from '../../../../core/observability/tracing.js';
import { inChunkSpan } from '../../../../gpu-worker/src/chunk-span.js';
import { ReceiveLoop } from '../../../../gpu-worker/src/receive-loop.js';

const sqsMock = mockClient(SQSClient);
afterEach(async () => {
  sqsMock.reset();
  await stopTracing();
});

const chunk = { tenant: 't1', batchId: 'batch_1', chunk: 4 };
const scheduler = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

describe('inChunkSpan', () => {
  it("continues the trace of the message's AWSTraceHeader, annotated with the batch and chunk", async () => {
    const spans = new InMemorySpanExporter();
    startTracing('worker-spot', { OPENBATCH_TRACING: 'xray' }, spans);
    const done = await inChunkSpan({ Attributes: { AWSTraceHeader: scheduler } }, chunk, async () => true);
    expect(done).toBe(true);
    await flushTraces();
    const [span] = spans.getFinishedSpans();
    expect(span?.spanContext().traceId).toBe('5759e988bd862e3fe1be46a994272793');
    expect(span?.parentSpanContext?.spanId).toBe('53995c3f42cd8ad8');
    expect(span?.attributes).toMatchObject({ batch_id: 'batch_1', tenant: 't1', chunk: 4 });
  });

  it('starts a trace of its own for a message that carries none', async () => {
    const spans = new InMemorySpanExporter();
    startTracing('worker-spot', { OPENBATCH_TRACING: 'xray' }, spans);
    await inChunkSpan({}, chunk, async () => true);
    await flushTraces();
    const [span] = spans.getFinishedSpans();
    expect(span?.parentSpanContext).toBeUndefined();
    expect(span?.attributes.batch_id).toBe('batch_1');
  });
});

describe('ReceiveLoop', () => {
  it('asks SQS for each message’s AWSTraceHeader', async () => {
    let handled: Message | undefined;
    let served = false;
    sqsMock.on(ReceiveMessageCommand).callsFake(async () => {
      if (served) {
        await new Promise((r) => setTimeout(r, 5)); // an empty long poll
        return { Messages: [] };
      }
      served = true;
      return {
        Messages: [
          { MessageId: 'm1', ReceiptHandle: 'r1', Body: '{}', Attributes: { AWSTraceHeader: scheduler } },
        ],
      };
    });
    const loop = new ReceiveLoop({
      sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
      queueUrl: 'https://sqs/q',
      maxInFlight: 1,
      waitTimeSeconds: 0,
      visibilityTimeoutSeconds: 30,
      handle: async (m) => {
        handled = m;
        return false;
      },
    });
    loop.start();
    while (!handled) await new Promise((r) => setTimeout(r, 5));
    await loop.stop();
    const input = sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input;
    expect(input?.MessageSystemAttributeNames).toContain('AWSTraceHeader');
    expect(handled.Attributes?.AWSTraceHeader).toBe(scheduler);
  });
});
