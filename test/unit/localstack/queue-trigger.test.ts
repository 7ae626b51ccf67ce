import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { functions } from '../../../core/app/declaration.js';
import type { LoadedFunction } from '../../../localstack/runtime/functions.js';
import { startQueueTrigger } from '../../../localstack/runtime/queue-trigger.js';

const sqsMock = mockClient(SQSClient);
afterEach(() => sqsMock.reset());

const msg = (n: number): Message => ({ MessageId: `m${n}`, ReceiptHandle: `r${n}`, Body: '{}' });

describe('startQueueTrigger (the local SQS event source)', () => {
  it('runs up to `concurrency` invocations at once and receives again as soon as one ends', async () => {
    let next = 0;
    sqsMock.on(ReceiveMessageCommand).callsFake(async (input: { MaxNumberOfMessages: number }) => {
      const out: Message[] = [];
      while (out.length < input.MaxNumberOfMessages && next < 25) out.push(msg(next++));
      if (out.length === 0) await new Promise((r) => setTimeout(r, 5));
      return { Messages: out };
    });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});
    let running = 0;
    let most = 0;
    const seen: string[] = [];
    const fn: LoadedFunction = {
      name: 'scheduler',
      decl: functions.scheduler,
      handler: async (event: SQSEvent) => {
        running += 1;
        most = Math.max(most, running);
        seen.push(...event.Records.map((r) => r.messageId));
        await new Promise((r) => setTimeout(r, 5 + (seen.length % 3)));
        running -= 1;
        // The 7th message fails: it stays on the queue.
        return {
          batchItemFailures: event.Records.filter((r) => r.messageId === 'm7').map((r) => ({
            itemIdentifier: r.messageId,
          })),
        };
      },
    };
    const trigger = startQueueTrigger({
      sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
      queueUrl: 'https://sqs/scheduling',
      queueArn: 'arn:aws:sqs:us-east-1:1:scheduling',
      batchSize: 1,
      fn,
      concurrency: 10,
    });
    await vi.waitFor(() => expect(seen).toHaveLength(25));
    await trigger.stop();
    expect(most).toBe(10);
    const deleted = sqsMock
      .commandCalls(DeleteMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries?.map((e) => e.ReceiptHandle));
    expect(deleted).toHaveLength(24);
    expect(deleted).not.toContain('r7');
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MaxNumberOfMessages).toBe(10);
  });
});
