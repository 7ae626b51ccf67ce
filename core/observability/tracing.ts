import { createSocket, type Socket } from 'node:dgram';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { AWSXRAY_TRACE_ID_HEADER, AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/**
 * Tracing: OpenTelemetry spans, exported to AWS X-Ray, that follow a batch from the API through
 * the scheduler and the workers to the finalizer (docs/observability.md, "Tracing").
 *
 * Every span carries the batch it works for as X-Ray annotations (`batch_id`, `tenant`, `chunk`:
 * indexed, so `annotation.batch_id = "batch_…"` finds each hop of one batch). The trace passes
 * from hop to hop in the X-Ray trace header: API Gateway hands it to the API function, each SQS
 * send carries it (`propagateTraceHeader`, the HTTP header SQS turns into the message's
 * `AWSTraceHeader`), Lambda links a queue-triggered invocation to it, and the worker continues it
 * from the chunk message's `AWSTraceHeader`.
 *
 * Off unless `OPENBATCH_TRACING=xray` (set by the CDK app on every function and worker): locally
 * and in tests no provider is registered and every call here is a check of one variable.
 */

/** Span attributes that become X-Ray annotations. */
export const ANNOTATION_KEYS = ['batch_id', 'tenant', 'chunk'] as const;
/** The span attribute listing which attributes X-Ray indexes as annotations (ADOT collector and X-Ray OTLP). */
export const XRAY_ANNOTATIONS_ATTRIBUTE = 'aws.xray.annotations';
/** The trace header, on HTTP requests and as SQS's `AWSTraceHeader` system attribute. */
export const TRACE_HEADER = 'X-Amzn-Trace-Id';

/** What a span is about. */
export interface TraceFields {
  tenant?: string;
  batchId?: string;
  chunk?: number;
}

/** The environment `startTracing` reads (process.env by default). */
export interface TracingEnv {
  /** `xray` turns tracing on; anything else (unset) leaves it off. */
  OPENBATCH_TRACING?: string;
  /** Set in Lambda: spans go to Lambda's X-Ray endpoint (`AWS_XRAY_DAEMON_ADDRESS`) over UDP. */
  AWS_LAMBDA_FUNCTION_NAME?: string;
  AWS_XRAY_DAEMON_ADDRESS?: string;
  /** Elsewhere (the worker on ECS): the collector's OTLP/HTTP traces endpoint. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
}

const propagator = new AWSXRayPropagator();
let provider: TracerProvider | undefined;
/** In Lambda each outermost span is flushed before the invocation returns (the sandbox freezes then). */
let flushEachSpan = false;

/** Whether spans are being recorded and exported in this process. */
export const tracingEnabled = (): boolean => provider !== undefined;

/**
 * Starts tracing in this process when the environment asks for it: registers the provider, the
 * async-context manager (spans of concurrent SQS records and chunks stay apart) and the exporter.
 * `serviceName` names the spans' service (the Lambda function, `worker-spot`). Returns false,
 * and changes nothing, when tracing is off. Safe to call more than once.
 */
export function startTracing(
  serviceName: string,
  env: TracingEnv = process.env,
  exporter?: SpanExporter,
): boolean {
  if (provider) return true;
  if (env.OPENBATCH_TRACING !== 'xray') return false;
  const lambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const out =
    exporter ??
    (lambda
      ? new XRayUdpSpanExporter(env.AWS_XRAY_DAEMON_ADDRESS ?? '127.0.0.1:2000')
      : new OTLPTraceExporter({
          url: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? 'http://localhost:4318/v1/traces',
        }));
  // Lambda freezes between invocations: each span leaves as it ends (one local datagram). A
  // worker batches them to its collector.
  const processor: SpanProcessor = lambda
    ? new SimpleSpanProcessor({ exporter: out })
    : new BatchSpanProcessor({ exporter: out });
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    // Follow the caller's sampling decision (API Gateway's, Lambda's, the sender's header).
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    idGenerator: xrayIdGenerator,
    spanProcessors: [processor],
  });
  flushEachSpan = lambda;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return true;
}

/** Exports what is left and stops tracing (a worker on its way out). */
export async function stopTracing(): Promise<void> {
  const p = provider;
  if (!p) return;
  provider = undefined;
  flushEachSpan = false;
  await p.shutdown();
  trace.disable();
  context.disable();
}

/** Sends the spans ended so far (Lambda: before the invocation returns and the sandbox freezes). */
export async function flushTraces(): Promise<void> {
  await provider?.forceFlush();
}

/** The fields as span attributes, with the list that makes X-Ray index them as annotations. */
export function traceAttributes(fields: TraceFields): Attributes {
  const attributes: Attributes = {};
  if (fields.batchId !== undefined) attributes.batch_id = fields.batchId;
  if (fields.tenant !== undefined) attributes.tenant = fields.tenant;
  if (fields.chunk !== undefined) attributes.chunk = fields.chunk;
  attributes[XRAY_ANNOTATIONS_ATTRIBUTE] = [...ANNOTATION_KEYS];
  return attributes;
}

/** The trace context an X-Ray trace header names (`Root=…;Parent=…;Sampled=…`), or none. */
export function contextFromTraceHeader(header: string | undefined): Context | undefined {
  if (!header) return undefined;
  const ctx = propagator.extract(ROOT_CONTEXT, { [AWSXRAY_TRACE_ID_HEADER]: header }, defaultTextMapGetter);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/** The current span as an X-Ray trace header, to pass on; undefined when nothing is traced. */
export function currentTraceHeader(): string | undefined {
  if (!provider || !trace.getActiveSpan()) return undefined;
  const carrier: Record<string, string> = {};
  propagator.inject(context.active(), carrier, defaultTextMapSetter);
  return carrier[AWSXRAY_TRACE_ID_HEADER];
}

export interface SpanOptions {
  /** Continue this trace (a chunk message's `AWSTraceHeader`) instead of the current one. */
  traceHeader?: string;
  /** Link the span to this trace (an SQS record's `AWSTraceHeader` in Lambda, whose invocation is the parent). */
  linkTo?: string;
  kind?: SpanKind;
}

/**
 * Runs `fn` in a span named `name`, annotated with `fields`. Its parent is, in order: the trace
 * `traceHeader` names, the span running now, and in Lambda the invocation's own segment
 * (`_X_AMZN_TRACE_ID`, set per invocation by the runtime). A throw marks the span failed and is
 * rethrown. In Lambda the outermost span is flushed before the promise settles. With tracing
 * off, it only calls `fn`.
 */
export function inSpan<T>(
  name: string,
  fields: TraceFields,
  fn: () => Promise<T>,
  opts: SpanOptions = {},
): Promise<T> {
  if (!provider) return fn();
  const nested = trace.getActiveSpan() !== undefined;
  const parent =
    contextFromTraceHeader(opts.traceHeader) ??
    (nested ? context.active() : contextFromTraceHeader(process.env._X_AMZN_TRACE_ID)) ??
    context.active();
  const linked = contextFromTraceHeader(opts.linkTo);
  const linkedSpan = linked ? trace.getSpanContext(linked) : undefined;
  const tracer = provider.getTracer('openbatch');
  return tracer.startActiveSpan(
    name,
    {
      kind: opts.kind ?? SpanKind.INTERNAL,
      attributes: traceAttributes(fields),
      ...(linkedSpan ? { links: [{ context: linkedSpan }] } : {}),
    },
    parent,
    async (span: Span) => {
      try {
        return await fn();
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
        throw err;
      } finally {
        span.end();
        if (flushEachSpan && !nested) await flushTraces();
      }
    },
  );
}

/**
 * One SQS record in Lambda, in a span under the invocation's segment, linked to the trace the
 * record's `AWSTraceHeader` carries (the sender's), as X-Ray links SQS to Lambda. With tracing
 * off, it only calls `fn`.
 */
export function inRecordSpan<T>(
  name: string,
  fields: TraceFields,
  awsTraceHeader: string | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!provider) return fn();
  return inSpan(name, fields, fn, { linkTo: awsTraceHeader, kind: SpanKind.CONSUMER });
}

/** Adds fields to the span running now (a batch id learnt halfway through a request). */
export function annotateSpan(fields: TraceFields): void {
  if (!provider) return;
  trace.getActiveSpan()?.setAttributes(traceAttributes(fields));
}

/**
 * An API request in a span named after its route, and the batch a create made (its id is only
 * known from the answer) added to it. With tracing off, it only calls `fn`.
 */
export function inRequestSpan<R extends { statusCode: number; body?: string }>(
  route: string,
  fields: TraceFields,
  fn: () => Promise<R>,
): Promise<R> {
  if (!provider) return fn();
  return inSpan(
    route,
    fields,
    async () => {
      const result = await fn();
      if (fields.batchId === undefined) annotateSpan({ batchId: createdBatchId(result) });
      return result;
    },
    { kind: SpanKind.SERVER },
  );
}

/** The id of the batch a response body carries (`{"id":"batch_…","object":"batch",…}`), if any. */
export function createdBatchId(result: { statusCode: number; body?: string }): string | undefined {
  const body = result.body;
  if (result.statusCode >= 300 || !body || !body.includes('"object":"batch"')) return undefined;
  try {
    const parsed = JSON.parse(body) as { id?: unknown; object?: unknown };
    return parsed.object === 'batch' && typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes each send of an SQS client carry the current span in the `X-Amzn-Trace-Id` HTTP header,
 * which SQS keeps as the message's `AWSTraceHeader`. Added at the build step with high priority:
 * the SDK's own recursion-detection middleware fills the header from Lambda's `_X_AMZN_TRACE_ID`
 * (the invocation's segment) only when it is still empty. Does nothing while tracing is off.
 */
export function propagateTraceHeader(client: SQSClient): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const header = currentTraceHeader();
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if (header && request?.headers && !request.headers[TRACE_HEADER])
        request.headers[TRACE_HEADER] = header;
      return next(args);
    },
    { step: 'build', priority: 'high', name: 'openbatchTraceHeader', override: true },
  );
}

/**
 * X-Ray trace ids: the first 8 hex digits are the epoch second the trace began (X-Ray refuses
 * ids whose time is far off); span ids as usual. Only a span with no parent needs a new trace id.
 */
export const xrayIdGenerator: IdGenerator = {
  generateTraceId: () =>
    Math.floor(Date.now() / 1000)
      .toString(16)
      .padStart(8, '0') + randomHex(24),
  generateSpanId: () => randomHex(16),
};

function randomHex(digits: number): string {
  let out = '';
  while (out.length < digits)
    out += Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return out.slice(0, digits);
}

/**
 * Spans to Lambda's X-Ray endpoint over UDP, as the ADOT Lambda layers send them: a JSON header
 * line, `T1S` (OTLP traces, sampled), then the OTLP protobuf request in base64. Lambda runs the
 * endpoint in every sandbox with active tracing and names it in `AWS_XRAY_DAEMON_ADDRESS`.
 */
export class XRayUdpSpanExporter implements SpanExporter {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;
  private readonly pending = new Set<Promise<void>>();

  constructor(endpoint: string) {
    const at = endpoint.lastIndexOf(':');
    this.host = endpoint.slice(0, at);
    this.port = Number(endpoint.slice(at + 1));
    if (at <= 0 || !Number.isInteger(this.port)) throw new Error(`Invalid X-Ray endpoint '${endpoint}'`);
    this.socket = createSocket('udp4');
    this.socket.unref();
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const data = ProtobufTraceSerializer.serializeRequest(spans);
    if (!data) {
      done({ code: ExportResultCode.FAILED });
      return;
    }
    const message = Buffer.from(
      `{"format":"json","version":1}\nT1S${Buffer.from(data).toString('base64')}`,
      'utf8',
    );
    const sent = new Promise<void>((resolve) => {
      this.socket.send(message, this.port, this.host, (err) => {
        done(err ? { code: ExportResultCode.FAILED, error: err } : { code: ExportResultCode.SUCCESS });
        resolve();
      });
    });
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  async forceFlush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.socket.close();
  }
}
