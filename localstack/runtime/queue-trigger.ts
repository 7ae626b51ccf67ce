import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { log } from '../../core/observability/log.js';
import type { LoadedFunction } from './functions.js';
import { lambdaContext } from './lambda-context.js';

/**
 * What a Lambda SQS event source mapping does, locally: long-poll the queue, hand batches of
 * `batchSize` records to the function, up to `concurrency` invocations at once (the event
 * source's maximum concurrency), and delete the records it did not report as failed
 * (ReportBatchItemFailures). A new receive starts as soon as an invocation slot is free, not
 * when the previous receive's invocations have all ended. Failed records become visible again
 * and, after maxReceiveCount, go to the DLQ.
 */
export function startQueueTrigger(opts: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  fn: LoadedFunction;
  concurrency?: number;
}): { stop(): Promise<void> } {
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  let running = true;
  let invocations = 0;
  let wake: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();

  const invoke = async (messages: Message[]) => {
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
      await opts.sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        )
        .catch((err: unknown) => log.error('queue trigger delete failed', { fn: opts.fn.name, err }));
    }
  };

  const start = (messages: Message[]) => {
    invocations += 1;
    const p = invoke(messages).finally(() => {
      invocations -= 1;
      inFlight.delete(p);
      wake?.();
    });
    inFlight.add(p);
  };

  const loop = async () => {
    while (running) {
      const free = concurrency - invocations;
      if (free <= 0) {
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
        continue;
      }
      try {
        const out = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: Math.min(10, free * opts.batchSize),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = out.Messages ?? [];
        for (let i = 0; i < messages.length; i += opts.batchSize)
          start(messages.slice(i, i + opts.batchSize));
      } catch (err) {
        if (!running) break;
        log.error('queue trigger error', { fn: opts.fn.name, err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const polling = loop();
  return {
    stop: async () => {
      running = false;
      abort.abort();
      wake?.();
      await polling.catch(() => {});
      await Promise.allSettled([...inFlight]);
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
