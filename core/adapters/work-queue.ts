import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** Sends JSON messages, ten to a call. */
export class WorkQueue {
  constructor(private readonly sqs: SQSClient) {}

  async send(queueUrl: string, body: unknown): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
  }

  async sendAll(queueUrl: string, bodies: readonly unknown[]): Promise<void> {
    for (let i = 0; i < bodies.length; i += 10) {
      let entries = bodies
        .slice(i, i + 10)
        .map((b, j) => ({ Id: String(j), MessageBody: JSON.stringify(b) }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
        );
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        if (failed.size === 0) break;
        if (attempt >= 4) throw new Error(`SQS refused ${failed.size} messages to ${queueUrl}`);
        entries = entries.filter((e) => failed.has(e.Id));
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
