import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReceiveLoop, type ReceiveLoopOptions } from '../../../../gpu-worker/src/receive-loop.js';

const sqsMock = mockClient(SQSClient);
afterEach(() => {
  sqsMock.reset();
  vi.useRealTimers();
});

const msg = (n: number): Message => ({ MessageId: `m${n}`, ReceiptHandle: `r${n}`, Body: `{"n":${n}}` });

/** A queue of `n` messages handed out as ReceiveMessage asks, then empty long polls. */
function queueOf(n: number) {
  let next = 0;
  sqsMock.on(ReceiveMessageCommand).callsFake(async (input: { MaxNumberOfMessages: number }) => {
    const out: Message[] = [];
    while (out.length < input.MaxNumberOfMessages && next < n) out.push(msg(next++));
    if (out.length === 0) await new Promise((r) => setTimeout(r, 5));
    return { Messages: out };
  });
  sqsMock.on(DeleteMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
}

const loopWith = (handle: ReceiveLoopOptions['handle'], more: Partial<ReceiveLoopOptions> = {}) =>
  new ReceiveLoop({
    sqs: new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    queueUrl: 'https://sqs/q',
    maxInFlight: 3,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 30,
    deleteDelayMs: 1,
    handle,
    ...more,
  });

const deleted = () =>
  sqsMock
    .commandCalls(DeleteMessageBatchCommand)
    .flatMap((c) => c.args[0].input.Entries?.map((e) => e.ReceiptHandle));

describe('ReceiveLoop', () => {
  it('keeps up to maxInFlight messages in hand and receives the next as soon as one is done, not when the whole receive is', async () => {
    queueOf(6);
    const release = new Map<string, () => void>();
    let most = 0;
    const loop = loopWith(async (m) => {
      most = Math.max(most, loop.inFlight);
      await new Promise<void>((r) => release.set(m.MessageId ?? '', r));
      return true;
    });
    loop.start();
    await vi.waitFor(() => expect([...release.keys()]).toEqual(['m0', 'm1', 'm2']));
    release.get('m1')?.(); // one slot frees while m0 and m2 still run
    await vi.waitFor(() => expect([...release.keys()]).toEqual(['m0', 'm1', 'm2', 'm3']));
    expect(sqsMock.commandCalls(ReceiveMessageCommand)[1]?.args[0].input.MaxNumberOfMessages).toBe(1);
    for (const k of ['m0', 'm2', 'm3']) release.get(k)?.();
    await vi.waitFor(() => expect(release.size).toBe(6));
    for (const r of release.values()) r();
    await loop.stop();
    expect(most).toBe(3);
    expect(deleted().sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    const first = sqsMock.commandCalls(ReceiveMessageCommand)[0]?.args[0].input;
    expect(first).toMatchObject({ MaxNumberOfMessages: 3, WaitTimeSeconds: 1, VisibilityTimeout: 30 });
  });

  it('deletes what was handled and leaves on the queue what was not (false, or a handler that threw)', async () => {
    queueOf(3);
    const errors: string[] = [];
    const loop = loopWith(
      async (m) => {
        if (m.MessageId === 'm1') return false;
        if (m.MessageId === 'm2') throw new Error('boom');
        return true;
      },
      { onError: (_err, during) => errors.push(during) },
    );
    loop.start();
    await vi.waitFor(() => expect(deleted()).toEqual(['r0']));
    await loop.stop();
    expect(deleted()).toEqual(['r0']);
    expect(errors).toEqual(['handle']);
  });

  it('extends the visibility of every held message at each heartbeat, ten to a call', async () => {
    queueOf(12);
    const release: (() => void)[] = [];
    const renewals: number[] = [];
    const loop = loopWith(
      async () => {
        await new Promise<void>((r) => release.push(r));
        return true;
      },
      { maxInFlight: 12, heartbeatSeconds: 0.05 as number, onExtend: (n: number) => renewals.push(n) },
    );
    loop.start();
    await vi.waitFor(() => expect(release).toHaveLength(12));
    await vi.waitFor(() =>
      expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).length).toBeGreaterThanOrEqual(2),
    );
    const [first, second] = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((c) => c.args[0].input);
    expect(first?.Entries).toHaveLength(10);
    expect(second?.Entries).toHaveLength(2);
    expect(first?.Entries?.every((e) => e.VisibilityTimeout === 30)).toBe(true);
    expect(renewals[0]).toBe(12); // the lease renewals the worker counts
    for (const r of release) r();
    await loop.stop();
    const calls = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).length;
    await new Promise((r) => setTimeout(r, 120));
    expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)).toHaveLength(calls); // no heartbeat after stop
  });

  it('on stop, waits for the held messages and makes what a last receive brings visible again at once', async () => {
    let receives = 0;
    let answerLast: (v: { Messages: Message[] }) => void = () => {};
    sqsMock.on(ReceiveMessageCommand).callsFake(async () => {
      receives += 1;
      if (receives === 1) return { Messages: [msg(0)] };
      return new Promise((r) => {
        answerLast = r;
      });
    });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({});
    let finish: () => void = () => {};
    const handled: string[] = [];
    const loop = loopWith(async (m) => {
      handled.push(m.MessageId ?? '');
      await new Promise<void>((r) => {
        finish = r;
      });
      return true;
    });
    loop.start();
    await vi.waitFor(() => expect(receives).toBe(2));
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    answerLast({ Messages: [msg(1)] }); // arrives after the stop
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false); // m0 still held
    finish();
    await stopping;
    expect(handled).toEqual(['m0']);
    expect(deleted()).toEqual(['r0']);
    const released = sqsMock
      .commandCalls(ChangeMessageVisibilityBatchCommand)
      .map((c) => c.args[0].input.Entries);
    expect(released).toContainEqual([{ Id: '0', ReceiptHandle: 'r1', VisibilityTimeout: 0 }]);
  });

  it('on stop, lets a waiting long poll end rather than cut it short, and hands back what it brings', async () => {
    // Closing the connection would not end the poll on the queue's side: a message it took then
    // would stay invisible for the whole visibility timeout with nobody holding it.
    const signals: (AbortSignal | undefined)[] = [];
    const sent: { name: string; input: unknown }[] = [];
    let answer: (v: { Messages: Message[] }) => void = () => {};
    const sqs = {
      send: async (
        command: { constructor: { name: string }; input: unknown },
        opts?: { abortSignal?: AbortSignal },
      ) => {
        sent.push({ name: command.constructor.name, input: command.input });
        if (command.constructor.name !== 'ReceiveMessageCommand') return {};
        signals.push(opts?.abortSignal);
        return new Promise((r) => {
          answer = r;
        });
      },
    } as unknown as SQSClient;
    const loop = loopWith(async () => true, { sqs });
    loop.start();
    await vi.waitFor(() => expect(signals).toHaveLength(1));
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    expect(signals[0]?.aborted).toBe(false);
    answer({ Messages: [msg(7)] });
    await stopping;
    expect(sent.filter((c) => c.name === 'ReceiveMessageCommand')).toHaveLength(1);
    expect(sent.at(-1)).toEqual({
      name: 'ChangeMessageVisibilityBatchCommand',
      input: { QueueUrl: 'https://sqs/q', Entries: [{ Id: '0', ReceiptHandle: 'r7', VisibilityTimeout: 0 }] },
    });
  });

  it('keeps polling after a failed receive', async () => {
    let calls = 0;
    sqsMock.on(ReceiveMessageCommand).callsFake(async () => {
      calls += 1;
      if (calls === 1) throw new Error('throttled');
      if (calls === 2) return { Messages: [msg(0)] };
      await new Promise((r) => setTimeout(r, 5));
      return {};
    });
    sqsMock.on(DeleteMessageBatchCommand).resolves({});
    const errors: string[] = [];
    const loop = loopWith(async () => true, { onError: (_e, during) => errors.push(during) });
    loop.start();
    await vi.waitFor(() => expect(deleted()).toEqual(['r0']), { timeout: 3_000 });
    await loop.stop();
    expect(errors).toEqual(['receive']);
  });
});
