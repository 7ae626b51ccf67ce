import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { log } from '../../core/observability/log.js';
import type { LoadedFunction } from './functions.js';
import { lambdaContext } from './lambda-context.js';

/**
 * What a Lambda SQS event source mapping does, locally: long-poll the queue, hand the batch to
 * the function, delete the records it did not report as failed (ReportBatchItemFailures).
 * Failed records become visible again and, after maxReceiveCount, go to the DLQ.
 */
export function startQueueTrigger(opts: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  fn: LoadedFunction;
  concurrency?: number;
}): { stop(): Promise<void> } {
  let running = true;
  const abort = new AbortController();
  const loop = async () => {
    while (running) {
      try {
        const out = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: opts.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) continue;
        const event: SQSEvent = {
          Records: messages.map((m) => ({
            messageId: m.MessageId ?? '',
            receiptHandle: m.ReceiptHandle ?? '',
            body: m.Body ?? '',
            attributes: (m.Attributes ?? {}) as SQSEvent['Records'][number]['attributes'],
            messageAttributes: {},
            md5OfBody: m.MD5OfBody ?? '',
            eventSource: 'aws:sqs',
            eventSourceARN: opts.queueArn,
            awsRegion: 'us-east-1',
          })),
        };
        let failed = new Set(messages.map((m) => m.MessageId));
        try {
          const result = (await opts.fn.handler(
            event,
            lambdaContext(opts.fn.name, opts.fn.decl.timeoutSeconds),
          )) as SQSBatchResponse | undefined;
          failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (err) {
          log.error('function invocation failed', { fn: opts.fn.name, err });
        }
        const done = messages.filter((m) => !failed.has(m.MessageId));
        if (done.length > 0) {
          await opts.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: opts.queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
            }),
          );
        }
      } catch (err) {
        if (!running) break;
        log.error('queue trigger error', { fn: opts.fn.name, err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const loops = Array.from({ length: opts.concurrency ?? 1 }, loop);
  return {
    stop: async () => {
      running = false;
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

/** What an EventBridge schedule does, locally: invoke the function every N seconds, one run at a time. */
export function startScheduleTrigger(
  fn: LoadedFunction,
  everySeconds: number,
): { stop(): Promise<void>; runNow(): Promise<void> } {
  let current: Promise<void> = Promise.resolve();
  const run = () => {
    current = current.then(async () => {
      try {
        await fn.handler(
          { source: 'aws.events', 'detail-type': 'Scheduled Event' },
          lambdaContext(fn.name, fn.decl.timeoutSeconds),
        );
      } catch (err) {
        log.error('scheduled function failed', { fn: fn.name, err });
      }
    });
    return current;
  };
  const timer = setInterval(run, everySeconds * 1000);
  return {
    runNow: run,
    stop: async () => {
      clearInterval(timer);
      await current;
    },
  };
}
