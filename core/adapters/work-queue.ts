import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueTarget } from '../models/catalog.js';
import type { QueuePort } from '../ports.js';

/** Sends JSON messages, ten to a call, to queues named by their logical names. */
export class WorkQueue implements QueuePort {
  constructor(
    private readonly sqs: SQSClient,
    /** Resolves a logical queue or pool queue to its URL (throws for a queue the principal did not declare). */
    private readonly urlOf: (queue: QueueTarget) => string,
  ) {}

  async send(queue: QueueTarget, body: unknown): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.urlOf(queue), MessageBody: JSON.stringify(body) }),
    );
  }

  async sendAll(queue: QueueTarget, bodies: readonly unknown[]): Promise<void> {
    const queueUrl = this.urlOf(queue);
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
        if (attempt >= 4) throw new Error(`SQS refused ${failed.size} messages to ${queue}`);
        entries = entries.filter((e) => failed.has(e.Id));
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
