import type { Message } from '@aws-sdk/client-sqs';
import { SpanKind } from '@opentelemetry/api';
import type { ChunkMessage } from '../../core/chunks/chunk-message.js';
import { inSpan } from '../../core/observability/tracing.js';

/**
 * Runs one chunk in a span that continues the trace its message carries: the `AWSTraceHeader`
 * system attribute SQS kept from the sender (the scheduler, the SLA monitor's escalation, or
 * another worker's hand-off), which the receive loop asks for. The span carries the batch id,
 * tenant and chunk as X-Ray annotations, so the chunk shows under its batch. One span per chunk
 * attempt, none per request: a chunk runs hundreds of requests, and a span each would multiply
 * the traces' cost by as much for nothing the chunk's metrics do not already say.
 */
export function inChunkSpan<T>(
  message: Pick<Message, 'Attributes'>,
  msg: Pick<ChunkMessage, 'tenant' | 'batchId' | 'chunk'>,
  fn: () => Promise<T>,
): Promise<T> {
  return inSpan('chunk', { tenant: msg.tenant, batchId: msg.batchId, chunk: msg.chunk }, fn, {
    traceHeader: message.Attributes?.AWSTraceHeader,
    kind: SpanKind.CONSUMER,
  });
}
