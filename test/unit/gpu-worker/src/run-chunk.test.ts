import { describe, expect, it, vi } from 'vitest';
import { type BatchRecord, toBatchObject } from '../../../../core/batches/batch-record.js';
import { createBatch } from '../../../../core/batches/batches-service.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { createFile } from '../../../../core/files/files-service.js';
import type { Engine } from '../../../../gpu-worker/src/engine/engine.js';
import { EngineBudget } from '../../../../gpu-worker/src/engine-budget.js';
import { runChunk } from '../../../../gpu-worker/src/run-chunk.js';
import { type FakeDeps, fakeDeps, jsonlOf, scheduledBatch } from '../../../support/fakes.js';

const tenant = 'acme';
const stop = new AbortController().signal;

/** An engine that answers every request at once; `fail` names custom ids to answer with 400. */
const engine = (fail: (body: Record<string, unknown>) => boolean = () => false): Engine => ({
  name: 'fake',
  send: async (_url, body) =>
    fail(body)
      ? { status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } }
      : { status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } },
});

const scheduled = (deps: FakeDeps, n: number) => scheduledBatch(deps, n);

const opts = { pool: 'spot' as const, concurrency: 4, maxRetries: 0, stop, retryMinTimeoutMs: 1 };

describe('runChunk (in-memory ports)', () => {
  it('writes the chunk’s parts in line order, completes it once and asks for finalization on the last', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '5' });
    const { ref, msgs } = await scheduled(deps, 8);
    const failing = (b: Record<string, unknown>) =>
      JSON.stringify(b.messages).includes('q3') || JSON.stringify(b.messages).includes('q6');
    const first = await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine(failing) });
    expect(first).toMatchObject({
      outcome: 'completed',
      ran: 5,
      completed: 4,
      failed: 1,
      finalizeRequested: false,
    });
    const second = await runChunk(deps, msgs[1] as ChunkMessage, { ...opts, engine: engine(failing) });
    expect(second).toMatchObject({ outcome: 'completed', finalizeRequested: true });
    expect(deps.queue.take('finalizing')).toEqual([ref]);
    const [c0] = await deps.batches.listChunks(ref);
    const out = deps.blobs
      .text(c0?.output_key ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).custom_id);
    expect(out).toEqual(['req-0', 'req-1', 'req-2', 'req-4']);
    expect((await deps.batches.get(ref))?.completed).toBe(6);
  });

  it('sends the next chunk of its chain once it completed, to the pool the batch is routed to, and none for a duplicate', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '5', CHUNK_TAIL_MIN_LINES: '0', DISPATCH_WINDOW_CHUNKS: '1' });
    const { ref, msgs } = await scheduled(deps, 15);
    expect(msgs.map((m) => m.chunk)).toEqual([0]);
    expect(await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() })).toMatchObject({
      outcome: 'completed',
    });
    const [second] = deps.queue.take<ChunkMessage>('spot');
    expect(second).toMatchObject({
      chunk: 1,
      lineStart: 6,
      lineEnd: 10,
      attempt: 1,
      chain: [[2, expect.any(Number), expect.any(Number), 11, 15]],
    });
    // A second delivery of chunk 0 finds it done: it sends nothing on.
    expect((await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() })).outcome).toBe(
      'duplicate',
    );
    expect(deps.queue.sent).toEqual([]);
    // Routed to dedicated meanwhile: chunk 1's completion sends chunk 2 there, and it is the last.
    await deps.batches.update(ref, { route_pool: 'dedicated' });
    await runChunk(deps, second as ChunkMessage, { ...opts, engine: engine() });
    const [third] = deps.queue.take<ChunkMessage>('dedicated');
    expect(third).toMatchObject({ chunk: 2, lineStart: 11, lineEnd: 15 });
    expect(third?.chain).toBeUndefined();
    expect(await runChunk(deps, third as ChunkMessage, { ...opts, engine: engine() })).toMatchObject({
      outcome: 'completed',
      finalizeRequested: true,
    });
    expect((await deps.batches.get(ref))?.completed).toBe(15);
    expect(deps.queue.take('spot')).toEqual([]);
  });

  it('serves a batch’s lower chunk first on a shared budget, whichever was received first', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3', CHUNK_TAIL_MIN_LINES: '3' });
    const { msgs } = await scheduled(deps, 6);
    const sent: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: Engine = {
      name: 'fake',
      send: async (_url, body) => {
        sent.push(JSON.stringify(body.messages).match(/q(\d+)/)?.[1] ?? '?');
        await gate;
        return { status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } };
      },
    };
    const budget = new EngineBudget(1);
    // Chunk 1 (lines 4-6) arrives first and takes the only slot; chunk 0 arrives after.
    const later = runChunk(deps, msgs[1] as ChunkMessage, { ...opts, engine: slow, budget });
    await vi.waitFor(() => expect(sent).toEqual(['3']));
    const earlier = runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: slow, budget });
    await vi.waitFor(() => expect(budget.queued).toBe(5));
    release();
    await Promise.all([later, earlier]);
    expect(sent).toEqual(['3', '0', '1', '2', '4', '5']);
  });

  it('asks for the chunk’s lines while it reads the chunk record, one round trip before the first request', async () => {
    const deps = fakeDeps();
    const { msgs } = await scheduled(deps, 3);
    const calls: string[] = [];
    const stream = deps.blobs.stream.bind(deps.blobs);
    deps.blobs.stream = async (...a) => {
      calls.push('stream');
      return stream(...a);
    };
    const read = deps.batches.getBatchAndChunk.bind(deps.batches);
    deps.batches.getBatchAndChunk = async (...a) => {
      calls.push('record');
      return read(...a);
    };
    await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() });
    expect(calls.slice(0, 2)).toEqual(['stream', 'record']);
  });

  it('answers a duplicate delivery of a done chunk without running anything', async () => {
    const deps = fakeDeps();
    const { msgs } = await scheduled(deps, 3);
    await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() });
    const again = await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() });
    expect(again).toMatchObject({ outcome: 'duplicate', ran: 0 });
  });

  it('checkpoints an interrupted chunk and hands the rest to dedicated; the next attempt skips what was done', async () => {
    const deps = fakeDeps();
    const { ref, msgs } = await scheduled(deps, 10);
    const first = await runChunk(deps, msgs[0] as ChunkMessage, {
      ...opts,
      concurrency: 1,
      engine: engine(),
      simulateInterruptionAfter: 4,
    });
    expect(first.outcome).toBe('handed-off');
    const [resumed] = deps.queue.take<ChunkMessage>('dedicated');
    expect(resumed).toMatchObject({ chunk: 0, attempt: 2 });
    const second = await runChunk(deps, resumed as ChunkMessage, {
      ...opts,
      pool: 'dedicated',
      engine: engine(),
    });
    expect(second).toMatchObject({ outcome: 'completed', ran: 6, completed: 10 });
    expect((await deps.batches.listChunks(ref))[0]).toMatchObject({ interruptions: 1, checkpoint_lines: 4 });
  });

  it('adds each chunk’s token usage to its batch exactly once: checkpointed lines count, a duplicate completion and error lines add nothing', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '5', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduled(deps, 10);
    // Every answer: 10 input tokens (4 cached), 3 output tokens (1 reasoning); q7 gets a 400 with usage-free error body.
    const metered: Engine = {
      name: 'fake',
      send: async (_url, body) =>
        JSON.stringify(body.messages).includes('q7')
          ? { status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } }
          : {
              status: 200,
              body: {
                choices: [],
                usage: {
                  prompt_tokens: 10,
                  completion_tokens: 3,
                  total_tokens: 13,
                  prompt_tokens_details: { cached_tokens: 4 },
                  completion_tokens_details: { reasoning_tokens: 1 },
                },
              },
            },
    };
    const first = await runChunk(deps, msgs[0] as ChunkMessage, {
      ...opts,
      concurrency: 1,
      engine: metered,
      simulateInterruptionAfter: 2,
    });
    expect(first.outcome).toBe('handed-off');
    const [resumed] = deps.queue.take<ChunkMessage>('dedicated');
    await runChunk(deps, resumed as ChunkMessage, { ...opts, pool: 'dedicated', engine: metered });
    await runChunk(deps, msgs[1] as ChunkMessage, { ...opts, engine: metered });
    expect(await runChunk(deps, msgs[1] as ChunkMessage, { ...opts, engine: metered })).toMatchObject({
      outcome: 'duplicate',
    });
    const batch = await deps.batches.get(ref);
    // 9 answered with usage (q7 failed without any), each counted once.
    expect(batch).toMatchObject({ usage_input: 90, usage_cached: 36, usage_output: 27, usage_reasoning: 9 });
    expect(toBatchObject(batch as BatchRecord).usage).toEqual({
      input_tokens: 90,
      input_tokens_details: { cached_tokens: 36 },
      output_tokens: 27,
      output_tokens_details: { reasoning_tokens: 9 },
      total_tokens: 117,
    });
    expect((await deps.batches.listChunks(ref)).map((c) => c.usage_input)).toEqual([50, 40]);
  });

  it('shows a running chunk’s finished lines in request_counts every few seconds, and counts them once when it completes', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '10', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduled(deps, 10);
    const waiting: (() => void)[] = [];
    let answered = 0;
    // Lines 0-5 answer at once (q3 with a 400); the rest wait until released.
    const gated: Engine = {
      name: 'fake',
      send: async (_url, body) => {
        const n = Number(JSON.stringify(body.messages).match(/q(\d+)/)?.[1]);
        if (n >= 6) await new Promise<void>((r) => waiting.push(r));
        answered += 1;
        return n === 3
          ? { status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } }
          : { status: 200, body: { choices: [] } };
      },
    };
    const counts = async () => toBatchObject((await deps.batches.get(ref)) as BatchRecord).request_counts;
    const running = runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: gated, progressEveryMs: 5 });
    await vi.waitFor(() => expect(answered).toBe(6));
    await vi.waitFor(async () => expect(await counts()).toEqual({ total: 10, completed: 5, failed: 1 }));
    // A report for a chunk no longer pending is refused, so a late attempt cannot count twice.
    for (const release of waiting) release();
    await running;
    expect(await counts()).toEqual({ total: 10, completed: 9, failed: 1 });
    expect(Object.keys((await deps.batches.get(ref)) ?? {}).filter((k) => k.startsWith('progress_'))).toEqual(
      [],
    );
    expect(await deps.batches.reportProgress(ref, 0, { completed: 9, failed: 1 })).toBe(false);
    expect(await counts()).toEqual({ total: 10, completed: 9, failed: 1 });
  });

  it('backs off an overloaded engine: the worker’s window shrinks on 429s and every request still completes', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '400', CHUNK_TAIL_MIN_LINES: '0' });
    const { ref, msgs } = await scheduled(deps, 400);
    let inFlight = 0;
    let refused = 0;
    // An engine that takes 8 at once and answers 429 beyond that.
    const small: Engine = {
      name: 'fake',
      send: async () => {
        if (inFlight >= 8) {
          refused += 1;
          return { status: 429, body: { error: { message: 'busy', type: 'rate_limit' } } };
        }
        inFlight += 1;
        await new Promise((r) => setTimeout(r, 2));
        inFlight -= 1;
        return { status: 200, body: { choices: [] } };
      },
    };
    const budget = new EngineBudget(64, { cutEveryMs: 5 });
    const result = await runChunk(deps, msgs[0] as ChunkMessage, {
      ...opts,
      engine: small,
      budget,
      maxRetries: 20,
      retryMinTimeoutMs: 1,
    });
    expect(result).toMatchObject({ outcome: 'completed', completed: 400, failed: 0 });
    expect((await deps.batches.get(ref))?.completed).toBe(400);
    expect(budget.overloads).toBeGreaterThan(0);
    expect(budget.limit).toBeLessThan(64);
    // Without back-pressure 56 of every 64 sends would be refused; with it, far fewer.
    expect(refused).toBeLessThan(400);
  });

  it('on a stop, hands the rest to dedicated after a reclaim and back to its own pool after a drain', async () => {
    for (const [to, outcome] of [
      ['dedicated', 'handed-off'],
      ['own-pool', 'released'],
    ] as const) {
      const deps = fakeDeps();
      const { ref, msgs } = await scheduled(deps, 6);
      const stopping = new AbortController();
      let answered = 0;
      const slow: Engine = {
        name: 'fake',
        send: async () => {
          answered += 1;
          if (answered === 3) stopping.abort('SIGTERM');
          return { status: 200, body: { choices: [] } };
        },
      };
      const result = await runChunk(deps, msgs[0] as ChunkMessage, {
        ...opts,
        concurrency: 1,
        engine: slow,
        stop: stopping.signal,
        handOffTo: async () => to,
      });
      expect(result.outcome, to).toBe(outcome);
      expect(deps.queue.take('dedicated').length, to).toBe(to === 'dedicated' ? 1 : 0);
      expect((await deps.batches.listChunks(ref))[0], to).toMatchObject({
        status: 'pending',
        checkpoint_lines: 3,
      });
    }
  });

  it('checkpoints while it runs, so an attempt after a crash runs only the lines since the last checkpoint', async () => {
    const deps = fakeDeps();
    const { ref, msgs } = await scheduled(deps, 8);
    let release: () => void = () => {};
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    let answered = 0;
    // Answers four requests at once, then hangs: a worker that dies here never hands off.
    const hangs: Engine = {
      name: 'fake',
      send: async () => {
        answered += 1;
        if (answered > 4) await stuck;
        return { status: 200, body: { choices: [] } };
      },
    };
    const crashed = runChunk(deps, msgs[0] as ChunkMessage, {
      ...opts,
      concurrency: 1,
      engine: hangs,
      checkpointEveryMs: 5,
    });
    await vi.waitFor(async () => {
      expect((await deps.batches.listChunks(ref))[0]).toMatchObject({ checkpoint_lines: 4 });
    });
    // Progress is not an interruption.
    expect((await deps.batches.listChunks(ref))[0]?.interruptions).toBeUndefined();
    const next = await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() });
    expect(next).toMatchObject({ outcome: 'completed', ran: 4, completed: 8 });
    release();
    expect((await crashed).outcome).toBe('duplicate');
  });

  it('skips a chunk whose batch is no longer running', async () => {
    const deps = fakeDeps();
    const { ref, msgs } = await scheduled(deps, 2);
    await deps.batches.transition(ref, 'cancelling', 0);
    expect((await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() })).outcome).toBe(
      'skipped',
    );
  });

  it('runs line 1 of a file that starts with a UTF-8 BOM: the first chunk is read from byte 0 and the BOM left out', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2' });
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(jsonlOf(3))]);
    const file = await createFile(deps, tenant, { filename: 'bom.jsonl', purpose: 'batch', content });
    const batch = await createBatch(deps, tenant, {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await scheduleBatch(deps, { tenant, batchId: batch.id });
    const msgs = deps.queue.take<ChunkMessage>('spot');
    expect(msgs[0]).toMatchObject({ byteStart: 0, lineStart: 1 });
    const result = await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() });
    expect(result).toMatchObject({ outcome: 'completed', ran: 2, completed: 2, failed: 0 });
    const [c0] = await deps.batches.listChunks({ tenant, batchId: batch.id });
    const out = deps.blobs
      .text(c0?.output_key ?? '')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).custom_id);
    expect(out).toEqual(['req-0', 'req-1']);
  });

  it('shares one engine budget between the chunks a worker holds', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '10' });
    const { msgs } = await scheduled(deps, 40);
    let running = 0;
    let most = 0;
    const slow: Engine = {
      name: 'fake',
      send: async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 2));
        running -= 1;
        return { status: 200, body: { choices: [] } };
      },
    };
    const budget = new EngineBudget(6);
    const results = await Promise.all(
      msgs.map((m) => runChunk(deps, m, { ...opts, concurrency: undefined, budget, engine: slow })),
    );
    expect(results.map((r) => r.outcome)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(most).toBe(6); // four chunks, one budget: never 4 × 6
    expect(results.filter((r) => r.finalizeRequested)).toHaveLength(1);
  });

  it('reads no chunk record after a completion while the batch counter says chunks are left', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '5' });
    const { ref, msgs } = await scheduled(deps, 15);
    const listChunks = vi.spyOn(deps.batches, 'listChunks');
    for (const m of msgs.slice(0, 2)) {
      expect(await runChunk(deps, m, { ...opts, engine: engine() })).toMatchObject({
        outcome: 'completed',
        finalizeRequested: false,
      });
    }
    expect(listChunks).not.toHaveBeenCalled();
    expect(await runChunk(deps, msgs[2] as ChunkMessage, { ...opts, engine: engine() })).toMatchObject({
      finalizeRequested: true,
    });
    expect(listChunks).toHaveBeenCalledTimes(1); // the counter says done: the records decide
    expect(deps.queue.take('finalizing')).toEqual([ref]);
  });

  it('decides from the chunk records, not the counter: a counter ahead of them asks for nothing', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '5' });
    const { ref, msgs } = await scheduled(deps, 10);
    // A doubled counter update: the counter says 2 of 2 after the first completion.
    const key = [...deps.batches.batches.keys()][0] as string;
    (deps.batches.batches.get(key) as { chunks_done?: number }).chunks_done = 1;
    expect(await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() })).toMatchObject({
      outcome: 'completed',
      finalizeRequested: false,
    });
    expect(deps.queue.take('finalizing')).toEqual([]);
    expect((await deps.batches.get(ref))?.chunks_done).toBe(2);
  });

  it('asks for finalization after the only chunk of a batch without reading the batch again', async () => {
    const deps = fakeDeps();
    const { ref, msgs } = await scheduled(deps, 3);
    const get = vi.spyOn(deps.batches, 'get');
    const listChunks = vi.spyOn(deps.batches, 'listChunks');
    expect(await runChunk(deps, msgs[0] as ChunkMessage, { ...opts, engine: engine() })).toMatchObject({
      outcome: 'completed',
      finalizeRequested: true,
    });
    // The one read is the fake's getBatchAndChunk (the BatchGet before the chunk starts).
    expect([get.mock.calls.length, listChunks.mock.calls.length]).toEqual([1, 0]);
    expect(deps.queue.take('finalizing')).toEqual([ref]);
  });
});
