import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createdBatchId,
  currentTraceHeader,
  flushTraces,
  inRecordSpan,
  inRequestSpan,
  inSpan,
  propagateTraceHeader,
  startTracing,
  stopTracing,
  TRACE_HEADER,
  tracingEnabled,
  XRayUdpSpanExporter,
  xrayIdGenerator,
} from '../../../../core/observability/tracing.js';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const header = (parent: string, sampled = 1) => `Root=${ROOT};Parent=${parent};Sampled=${sampled}`;
const lambdaEnv = { OPENBATCH_TRACING: 'xray', AWS_LAMBDA_FUNCTION_NAME: 'openbatch-dev-scheduler' };

afterEach(async () => {
  await stopTracing();
  delete process.env._X_AMZN_TRACE_ID;
});

describe('tracing off (locally, in tests)', () => {
  it('starts nothing unless OPENBATCH_TRACING=xray, and only runs the work', async () => {
    expect(startTracing('scheduler', { AWS_LAMBDA_FUNCTION_NAME: 'x' })).toBe(false);
    expect(tracingEnabled()).toBe(false);
    const out = await inSpan('work', { batchId: 'batch_1' }, async () => currentTraceHeader() ?? 'none', {
      traceHeader: header('53995c3f42cd8ad8'),
    });
    expect(out).toBe('none');
  });
});

describe('tracing on', () => {
  it('continues the trace a message header names, with the batch as indexed annotations', async () => {
    const spans = new InMemorySpanExporter();
    expect(startTracing('worker-spot', { OPENBATCH_TRACING: 'xray' }, spans)).toBe(true);
    await inSpan('chunk', { tenant: 't1', batchId: 'batch_1', chunk: 3 }, async () => 'ok', {
      traceHeader: header('53995c3f42cd8ad8'),
    });
    await flushTraces();
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('chunk');
    expect(span?.spanContext().traceId).toBe('5759e988bd862e3fe1be46a994272793');
    expect(span?.parentSpanContext?.spanId).toBe('53995c3f42cd8ad8');
    expect(span?.attributes).toEqual({
      batch_id: 'batch_1',
      tenant: 't1',
      chunk: 3,
      'aws.xray.annotations': ['batch_id', 'tenant', 'chunk'],
    });
    expect(span?.resource.attributes['service.name']).toBe('worker-spot');
  });

  it("records nothing when the caller's header says the trace is not sampled", async () => {
    const spans = new InMemorySpanExporter();
    startTracing('worker-spot', { OPENBATCH_TRACING: 'xray' }, spans);
    await inSpan('chunk', { batchId: 'batch_1' }, async () => undefined, {
      traceHeader: header('53995c3f42cd8ad8', 0),
    });
    await flushTraces();
    expect(spans.getFinishedSpans()).toHaveLength(0);
  });

  it("in Lambda, hangs under the invocation's segment and links the SQS record's trace", async () => {
    const spans = new InMemorySpanExporter();
    startTracing('scheduler', lambdaEnv, spans);
    process.env._X_AMZN_TRACE_ID = header('aaaaaaaaaaaaaaaa');
    const sender = '1-6759e988-000000000000000000000001';
    await inSpan('scheduler', { batchId: 'batch_2' }, async () => undefined, {
      linkTo: `Root=${sender};Parent=bbbbbbbbbbbbbbbb;Sampled=1`,
    });
    // Lambda: the span has left before inSpan settles (no flush needed).
    const [span] = spans.getFinishedSpans();
    expect(span?.parentSpanContext?.spanId).toBe('aaaaaaaaaaaaaaaa');
    expect(span?.links[0]?.context.traceId).toBe('6759e988000000000000000000000001');
    expect(span?.links[0]?.context.spanId).toBe('bbbbbbbbbbbbbbbb');
  });

  it("runs an SQS record as a consumer span linked to its sender's trace", async () => {
    const spans = new InMemorySpanExporter();
    startTracing('finalizer', lambdaEnv, spans);
    process.env._X_AMZN_TRACE_ID = header('aaaaaaaaaaaaaaaa');
    await inRecordSpan(
      'finalizer',
      { batchId: 'batch_3' },
      header('cccccccccccccccc'),
      async () => undefined,
    );
    const [span] = spans.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.CONSUMER);
    expect(span?.links[0]?.context.spanId).toBe('cccccccccccccccc');
    expect(span?.attributes.batch_id).toBe('batch_3');
  });

  it('passes the current span on as an X-Ray trace header, and nests spans', async () => {
    const spans = new InMemorySpanExporter();
    startTracing('worker-spot', { OPENBATCH_TRACING: 'xray' }, spans);
    let passed: string | undefined;
    await inSpan(
      'chunk',
      { batchId: 'batch_1' },
      () =>
        inSpan('finalize request', { batchId: 'batch_1' }, async () => {
          passed = currentTraceHeader();
        }),
      { traceHeader: header('53995c3f42cd8ad8') },
    );
    await flushTraces();
    const [inner, outer] = spans.getFinishedSpans();
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(passed).toBe(header(inner?.spanContext().spanId as string));
  });

  it('marks a failed span and rethrows', async () => {
    const spans = new InMemorySpanExporter();
    startTracing('finalizer', lambdaEnv, spans);
    process.env._X_AMZN_TRACE_ID = header('aaaaaaaaaaaaaaaa');
    await expect(
      inSpan('finalizer', {}, async () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = spans.getFinishedSpans();
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'TypeError' });
    expect(span?.events[0]?.name).toBe('exception');
  });

  it('annotates an API request with the batch its answer created', async () => {
    const spans = new InMemorySpanExporter();
    startTracing('batches-api', lambdaEnv, spans);
    process.env._X_AMZN_TRACE_ID = header('aaaaaaaaaaaaaaaa');
    const body = JSON.stringify({ id: 'batch_9', object: 'batch', status: 'validating' });
    const result = await inRequestSpan('POST /v1/batches', { tenant: 't1' }, async () => ({
      statusCode: 200,
      body,
    }));
    expect(result.body).toBe(body);
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('POST /v1/batches');
    expect(span?.attributes).toMatchObject({ tenant: 't1', batch_id: 'batch_9' });
  });
});

describe('createdBatchId', () => {
  it('reads a batch object, nothing else', () => {
    expect(createdBatchId({ statusCode: 200, body: '{"id":"batch_1","object":"batch"}' })).toBe('batch_1');
    expect(createdBatchId({ statusCode: 200, body: '{"id":"file_1","object":"file"}' })).toBeUndefined();
    expect(createdBatchId({ statusCode: 400, body: '{"id":"batch_1","object":"batch"}' })).toBeUndefined();
    expect(createdBatchId({ statusCode: 200, body: '"object":"batch"' })).toBeUndefined();
  });
});

describe('propagateTraceHeader', () => {
  /** An SQS client whose HTTP handler records the headers of each request and answers empty. */
  const recordingSqs = () => {
    const seen: Record<string, string>[] = [];
    const sqs = new SQSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: {
        handle: async (request: { headers: Record<string, string> }) => {
          seen.push({ ...request.headers });
          return {
            response: {
              statusCode: 200,
              headers: { 'content-type': 'application/x-amz-json-1.0' },
              body: Buffer.from('{"MessageId":"m1"}'),
            },
          };
        },
      },
    });
    propagateTraceHeader(sqs);
    return { sqs, seen };
  };
  const send = (sqs: SQSClient) =>
    sqs.send(
      new SendMessageCommand({ QueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/q', MessageBody: '' }),
    );

  it('sends the current span as X-Amzn-Trace-Id, which SQS keeps as AWSTraceHeader', async () => {
    startTracing('worker-spot', { OPENBATCH_TRACING: 'xray' }, new InMemorySpanExporter());
    const { sqs, seen } = recordingSqs();
    let expected: string | undefined;
    await inSpan(
      'chunk',
      { batchId: 'batch_1' },
      async () => {
        expected = currentTraceHeader();
        await send(sqs).catch(() => undefined);
      },
      { traceHeader: header('53995c3f42cd8ad8') },
    );
    expect(expected).toMatch(/^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/);
    expect(seen[0]?.[TRACE_HEADER] ?? seen[0]?.[TRACE_HEADER.toLowerCase()]).toBe(expected);
  });

  it('adds nothing while tracing is off', async () => {
    const { sqs, seen } = recordingSqs();
    await send(sqs).catch(() => undefined);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0] ?? {}).map((k) => k.toLowerCase())).not.toContain('x-amzn-trace-id');
  });
});

describe('XRayUdpSpanExporter', () => {
  it("sends each export as one datagram in the ADOT layers' format: a JSON header line, T1S, base64 OTLP", async () => {
    const server = createSocket('udp4');
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address();
    const exporter = new XRayUdpSpanExporter(`127.0.0.1:${port}`);
    startTracing('scheduler', lambdaEnv, exporter);
    process.env._X_AMZN_TRACE_ID = header('aaaaaaaaaaaaaaaa');
    const received = once(server, 'message');
    await inSpan('scheduler', { batchId: 'batch_udp_1' }, async () => undefined);
    const [message] = (await received) as [Buffer];
    server.close();
    const [first, rest] = message.toString('utf8').split('\n');
    expect(first).toBe('{"format":"json","version":1}');
    expect(rest?.startsWith('T1S')).toBe(true);
    const otlp = Buffer.from((rest ?? '').slice(3), 'base64');
    // Protobuf keeps strings as they are: the span's name and annotation are in the request.
    expect(otlp.includes('batch_udp_1')).toBe(true);
    expect(otlp.includes(Buffer.from('5759e988bd862e3fe1be46a994272793', 'hex'))).toBe(true);
  });

  it('refuses an endpoint without a port', () => {
    expect(() => new XRayUdpSpanExporter('localhost')).toThrow(/Invalid X-Ray endpoint/);
  });
});

describe('the worker exporter (OTLP/HTTP to its collector)', () => {
  it('posts the spans as OTLP protobuf to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT when flushed', async () => {
    const received: { url?: string; type?: string; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    startTracing('worker-spot', {
      OPENBATCH_TRACING: 'xray',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
    });
    await inSpan('chunk', { batchId: 'batch_otlp_1', chunk: 2 }, async () => undefined, {
      traceHeader: header('53995c3f42cd8ad8'),
    });
    await flushTraces();
    server.close();
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe('/v1/traces');
    expect(received[0]?.type).toBe('application/x-protobuf');
    expect(received[0]?.body.includes('batch_otlp_1')).toBe(true);
  });
});

describe('xrayIdGenerator', () => {
  it('starts a trace id with the epoch second, as X-Ray requires', () => {
    const id = xrayIdGenerator.generateTraceId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(Math.abs(Number.parseInt(id.slice(0, 8), 16) - Date.now() / 1000)).toBeLessThan(5);
    expect(xrayIdGenerator.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});
