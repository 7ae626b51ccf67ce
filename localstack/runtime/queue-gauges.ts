import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type MetricFlush, toFlush } from '../../core/observability/metrics.js';

/** A queue to watch: its name in the declaration (or `<name>-dlq`) and its URL. */
export interface WatchedQueue {
  name: string;
  url: string;
}

/**
 * Queue depths in the local `GET /metrics` (`openbatch_queue_depth{queue}`, and the messages
 * held by a consumer as `openbatch_queue_in_flight{queue}`), as SQS itself publishes them to
 * CloudWatch on AWS (ApproximateNumberOfMessagesVisible / NotVisible), where nothing of
 * openbatch's needs to: so these are the local runtime's, not metrics the code emits. One
 * GetQueueAttributes per queue every `everyMs`, on a client of its own whose calls are not
 * counted among openbatch's.
 */
export function watchQueueDepths(
  sqs: SQSClient,
  queues: readonly WatchedQueue[],
  add: (flush: MetricFlush) => void,
  everyMs = 5_000,
): () => void {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await Promise.all(
        queues.map(async (q) => {
          const out = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: q.url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          const count = (name: 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible') =>
            Number(out.Attributes?.[name] ?? 0) || 0;
          add(
            toFlush(
              { Queue: q.name },
              {
                QueueDepth: { value: count('ApproximateNumberOfMessages'), gauge: true },
                QueueInFlight: { value: count('ApproximateNumberOfMessagesNotVisible'), gauge: true },
              },
            ),
          );
        }),
      );
    } catch {
      // The emulator going away at close: the next tick, if any, tries again.
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
