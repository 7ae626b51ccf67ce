import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface ReceiveLoopOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Messages (chunks) held at once: CHUNKS_IN_PARALLEL. */
  maxInFlight: number;
  /** Long-poll wait of each receive. */
  waitTimeSeconds: number;
  /** Visibility given at receive, and again at each heartbeat while a message is held. */
  visibilityTimeoutSeconds: number;
  /** How often held messages get their visibility extended; default a third of the timeout. */
  heartbeatSeconds?: number;
  /**
   * Handles one message: true when it is done (it is deleted), false to leave it on the queue
   * (SQS delivers it again after its visibility timeout, unless the handler released it).
   * A handler that throws counts as false.
   */
  handle(message: Message): Promise<boolean>;
  onError?(err: unknown, during: 'receive' | 'handle' | 'delete' | 'heartbeat' | 'release'): void;
  /** Told how many held messages a heartbeat asked to extend (chunk lease renewals). */
  onExtend?(messages: number): void;
  /** Finished messages wait this long to be deleted together (up to 10 a call). Default 50 ms. */
  deleteDelayMs?: number;
}

/**
 * The worker's queue loop. Unlike a receive-then-handle-all loop (sqs-consumer's
 * handleMessageBatch waits for every message of a receive before polling again), it keeps up to
 * `maxInFlight` messages in hand and polls for more as soon as one is done, so a long chunk
 * never holds the worker's other slots idle. Held messages' visibility is extended on one
 * shared heartbeat (a batch call per 10 messages); done messages are deleted in batches.
 */
export class ReceiveLoop {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private readonly held = new Map<string, Message>();
  private readonly handlers = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private toDelete: Message[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;
  private deleting: Promise<void> = Promise.resolve();
  private receiving: AbortController | undefined;

  constructor(private readonly opts: ReceiveLoopOptions) {
    if (!Number.isInteger(opts.maxInFlight) || opts.maxInFlight < 1)
      throw new Error(`maxInFlight must be a positive integer, not ${opts.maxInFlight}`);
  }

  /** Messages being handled now. */
  get inFlight(): number {
    return this.held.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const every =
      this.opts.heartbeatSeconds ?? Math.max(1, Math.floor(this.opts.visibilityTimeoutSeconds / 3));
    this.heartbeat = setInterval(() => void this.extend(), every * 1000);
    this.loop = this.run();
  }

  /**
   * Stops receiving and resolves once every held message is handled and the deletes are sent.
   * A receive still waiting is let run to its end rather than cut short: closing the connection
   * does not end the long poll on the queue's side, and a message it then took would stay
   * invisible for the whole visibility timeout with nobody holding it. What that receive brings
   * is made visible again at once, for another worker. Only a receive that outlasts its wait by
   * far (a hung connection) is aborted.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    while (this.handlers.size > 0) await Promise.allSettled([...this.handlers]);
    const hung = setTimeout(() => this.receiving?.abort(), (this.opts.waitTimeSeconds + 10) * 1000);
    await this.loop;
    clearTimeout(hung);
    clearInterval(this.heartbeat);
    await this.flushDeletes();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const free = this.opts.maxInFlight - this.held.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      let messages: Message[];
      this.receiving = new AbortController();
      try {
        const out = await this.opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.opts.queueUrl,
            MaxNumberOfMessages: Math.min(10, free),
            WaitTimeSeconds: this.opts.waitTimeSeconds,
            VisibilityTimeout: this.opts.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'AWSTraceHeader'],
          }),
          { abortSignal: this.receiving.signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (!this.running) break;
        this.opts.onError?.(err, 'receive');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      } finally {
        this.receiving = undefined;
      }
      if (!this.running) {
        await this.release(messages);
        break;
      }
      for (const m of messages) this.dispatch(m);
    }
  }

  private dispatch(message: Message): void {
    const key = message.ReceiptHandle ?? message.MessageId ?? String(Math.random());
    this.held.set(key, message);
    const handling = (async () => {
      let done = false;
      try {
        done = await this.opts.handle(message);
      } catch (err) {
        this.opts.onError?.(err, 'handle');
      }
      this.held.delete(key);
      if (done) this.scheduleDelete(message);
      this.wake?.();
    })();
    this.handlers.add(handling);
    void handling.finally(() => this.handlers.delete(handling));
  }

  private scheduleDelete(message: Message): void {
    this.toDelete.push(message);
    if (this.toDelete.length >= 10) {
      void this.flushDeletes();
      return;
    }
    this.deleteTimer ??= setTimeout(() => void this.flushDeletes(), this.opts.deleteDelayMs ?? 50);
  }

  private flushDeletes(): Promise<void> {
    clearTimeout(this.deleteTimer);
    this.deleteTimer = undefined;
    const batch = this.toDelete.splice(0, this.toDelete.length);
    if (batch.length === 0) return this.deleting;
    this.deleting = this.deleting.then(() =>
      this.inTens(
        batch,
        'delete',
        (entries) => new DeleteMessageBatchCommand({ QueueUrl: this.opts.queueUrl, Entries: entries }),
      ),
    );
    return this.deleting;
  }

  /** Extends the visibility of every held message by the full timeout, from now. */
  private extend(): Promise<void> {
    const held = [...this.held.values()];
    if (held.length === 0) return Promise.resolve();
    this.opts.onExtend?.(held.length);
    return this.inTens(
      held,
      'heartbeat',
      (entries) =>
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: entries.map((e) => ({ ...e, VisibilityTimeout: this.opts.visibilityTimeoutSeconds })),
        }),
    );
  }

  /** Makes messages visible again at once. */
  private release(messages: readonly Message[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return this.inTens(
      messages,
      'release',
      (entries) =>
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.opts.queueUrl,
          Entries: entries.map((e) => ({ ...e, VisibilityTimeout: 0 })),
        }),
    );
  }

  /** Sends `command` for `messages` ten at a time (SQS's batch limit), reporting failures. */
  private async inTens(
    messages: readonly Message[],
    during: 'delete' | 'heartbeat' | 'release',
    command: (
      entries: { Id: string; ReceiptHandle: string }[],
    ) => DeleteMessageBatchCommand | ChangeMessageVisibilityBatchCommand,
  ): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages
        .slice(i, i + 10)
        .map((m, j) => ({ Id: String(i + j), ReceiptHandle: m.ReceiptHandle ?? '' }));
      try {
        // biome-ignore lint/suspicious/noExplicitAny: both batch commands go through the same client
        const out = (await this.opts.sqs.send(command(entries) as any)) as { Failed?: unknown[] };
        if (out.Failed?.length)
          this.opts.onError?.(
            Object.assign(new Error(`${during}: some entries failed`), { failed: out.Failed }),
            during,
          );
      } catch (err) {
        this.opts.onError?.(err, during);
      }
    }
  }
}
