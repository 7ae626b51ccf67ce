import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { log } from '../../core/observability/log.js';

/**
 * A queue-triggered function: each record is handled on its own, and only the records that
 * failed go back to the queue (partial batch response), to be retried and finally dead-lettered.
 */
export function queueFunction<T>(
  name: string,
  parse: (body: string) => T,
  handle: (message: T, context: Context) => Promise<unknown>,
) {
  return middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(
      sqsPartialBatchFailure({
        logger: (reason: unknown) => log.error(`${name} record failed`, { err: reason }),
      }),
    )
    .handler(async (event: SQSEvent, context: Context) => {
      const settled = await Promise.allSettled(
        event.Records.map(async (record: SQSRecord) => {
          const started = Date.now();
          const outcome = await handle(parse(record.body), context);
          log.info(`${name} handled`, { messageId: record.messageId, outcome, ms: Date.now() - started });
          return outcome;
        }),
      );
      return settled as unknown as SQSBatchResponse;
    });
}
