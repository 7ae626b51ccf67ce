import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { log, withLogContext } from '../../core/observability/log.js';
import { inRecordSpan, startTracing } from '../../core/observability/tracing.js';
import { messageFields, withInvocation } from './invocation.js';

// X-Ray spans per record, annotated with its batch, when OPENBATCH_TRACING=xray (core/observability/tracing.ts).
startTracing(process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'queue-function');

/**
 * A queue-triggered function: each record is handled on its own, and only the records that
 * failed go back to the queue (partial batch response), to be retried and finally dead-lettered.
 * Each record logs under its own context (message id, tenant, batch id, chunk), inside the
 * invocation's (function, AWS request id, cold start).
 */
export function queueFunction<T>(
  name: string,
  parse: (body: string) => T,
  handle: (message: T, context: Context) => Promise<unknown>,
) {
  const inner = middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(
      // Each failure is logged where it happens, under its record's context.
      sqsPartialBatchFailure({ logger: () => {} }),
    )
    .handler(async (event: SQSEvent, context: Context) => {
      const settled = await Promise.allSettled(
        event.Records.map((record: SQSRecord) =>
          withLogContext({ messageId: record.messageId }, async () => {
            const started = performance.now();
            const failed = (err: unknown) => {
              log.error(`${name} record failed`, { err, ms: Math.round(performance.now() - started) });
              return err;
            };
            let message: T;
            try {
              message = parse(record.body);
            } catch (err) {
              throw failed(err);
            }
            return withLogContext(messageFields(message), async () => {
              try {
                const outcome = await inRecordSpan(
                  name,
                  messageFields(message),
                  record.attributes?.AWSTraceHeader,
                  () => handle(message, context),
                );
                log.info(`${name} handled`, { outcome, ms: Math.round(performance.now() - started) });
                return outcome;
              } catch (err) {
                throw failed(err);
              }
            });
          }),
        ),
      );
      return settled as unknown as SQSBatchResponse;
    });
  return (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    withInvocation(context, {}, () => inner(event, context));
}
