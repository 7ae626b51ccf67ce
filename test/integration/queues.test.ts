import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queues } from '../../core/app/declaration.js';
import { startTestAws, type TestAws } from '../support/test-aws.js';

let t: TestAws;
beforeAll(async () => {
  t = await startTestAws();
});
afterAll(() => t?.close());

const receive = async (url: string) =>
  (
    await t.aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    )
  ).Messages ?? [];

describe('queues created from the declaration', () => {
  it('sends more than ten messages in batches of ten', async () => {
    const url = t.env.SCHEDULING_QUEUE_URL as string;
    await t.deps.queue.sendAll(
      'scheduling',
      Array.from({ length: 23 }, (_, i) => ({ n: i })),
    );
    const attrs = await t.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(attrs.Attributes?.ApproximateNumberOfMessages)).toBe(23);
  });

  it('moves a message to the dead-letter queue after maxReceiveCount failed receives', async () => {
    const url = t.env.FINALIZING_QUEUE_URL as string;
    const dlq = t.env.FINALIZING_QUEUE_DLQ_URL as string;
    await t.deps.queue.send('finalizing', { poison: true });
    for (let i = 0; i < queues.finalizing.maxReceiveCount; i++) {
      const [m] = await receive(url);
      expect(m, `receive ${i + 1}`).toBeDefined();
      // A consumer that fails gives the message back at once.
      await t.aws.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: url,
          ReceiptHandle: m?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    expect(await receive(url)).toEqual([]);
    const dead = await receive(dlq);
    expect(dead.map((m) => JSON.parse(m.Body ?? '{}'))).toEqual([{ poison: true }]);
  });

  it('gives the spot queue more receives than the others, for repeated interruptions', async () => {
    const attrs = await t.aws.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: t.env.SPOT_QUEUE_URL, AttributeNames: ['RedrivePolicy'] }),
    );
    expect(JSON.parse(attrs.Attributes?.RedrivePolicy ?? '{}').maxReceiveCount).toBe(
      queues.spot.maxReceiveCount,
    );
    expect(queues.spot.maxReceiveCount).toBeGreaterThan(queues.dedicated.maxReceiveCount);
  });
});
