import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { depsFor, type Principal } from '../../core/app/deps.js';
import { WiringError } from '../../core/app/resources.js';
import { cancelBatch, createBatch } from '../../core/batches/batches-service.js';
import { finalizeBatch } from '../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../core/batches/schedule-batch.js';
import type { ChunkMessage } from '../../core/chunks/chunk-message.js';
import type { Clock } from '../../core/clock.js';
import { createFile } from '../../core/files/files-service.js';
import type { ResultLine } from '../../core/openai/schemas.js';
import type { FileRecord } from '../../core/ports.js';
import { slaSweep } from '../../core/sla/sla-sweep.js';
import type { Engine } from '../../gpu-worker/src/engine/engine.js';
import { SimulatedEngine } from '../../gpu-worker/src/engine/simulated-engine.js';
import { runChunk } from '../../gpu-worker/src/run-chunk.js';
import { chatLines, createAndSchedule, drainQueue, startTestAws, type TestAws } from '../support/test-aws.js';

let t: TestAws;
beforeAll(async () => {
  t = await startTestAws({ CHUNK_MAX_LINES: '40', COMPLETION_WINDOWS: '24h,1h' });
});
afterAll(() => t?.close());

const tenant = 'tenant-p';
const stop = new AbortController().signal;

const drain = async (url: string): Promise<ChunkMessage[]> => (await drainQueue(t, url)).messages;
const drainRefs = async (url: string): Promise<number> => (await drainQueue(t, url, false)).count;

/** Each flow runs as its function would on AWS: exactly its declared resources and grants. */
const as = (principal: Principal) => t.depsOf(principal);

const startBatch = (content: string, window = '24h') =>
  createAndSchedule(t, tenant, content, { completion_window: window });

const run = (msg: ChunkMessage, engine: Engine, extra: Partial<Parameters<typeof runChunk>[2]> = {}) =>
  runChunk(as('worker'), msg, {
    pool: 'spot',
    engine,
    concurrency: 8,
    maxRetries: 5,
    stop,
    retryMinTimeoutMs: 1,
    ...extra,
  });

async function fileLines(fileId: string | undefined): Promise<ResultLine[]> {
  if (!fileId) return [];
  const rec = await t.deps.files.get(tenant, fileId);
  const text = (await t.deps.blobs.read(rec?.s3_key ?? '')).toString('utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ResultLine);
}

class CountingEngine implements Engine {
  readonly name = 'counting';
  calls = 0;
  constructor(private readonly inner: Engine) {}
  send(path: string, body: Record<string, unknown>, signal?: AbortSignal) {
    this.calls += 1;
    return this.inner.send(path, body, signal);
  }
}

/** Fails requests whose prompt ends in 7 with a non-retryable 400, as an engine rejects a bad body. */
const pickyEngine: Engine = {
  name: 'picky',
  async send(path, body) {
    const content = (body.messages as { content: string }[])[0]?.content ?? '';
    if (content.endsWith('7'))
      return {
        status: 400,
        body: { error: { message: 'bad request', type: 'invalid_request_error', param: null, code: null } },
      };
    return new SimulatedEngine({ latencyMs: 0, failureRate: 0 }).send(path, body);
  },
};

describe('a batch through scheduler, workers and finalizer', () => {
  it('runs every request exactly once, in input order, with engine errors kept as error lines', async () => {
    const { ref, outcome } = await startBatch(chatLines(100));
    expect(outcome).toBe('scheduled');
    const messages = await drain(t.env.SPOT_QUEUE_URL as string);
    expect(messages.map((m) => [m.lineStart, m.lineEnd])).toEqual([
      [1, 40],
      [41, 80],
      [81, 100],
    ]);
    const flaky = new SimulatedEngine({ latencyMs: 0, failureRate: 0.3 });
    // Retryable 500s are retried; the picky engine's 400s are final. Ten retries make a request
    // that fails every attempt (0.3^11 each) practically impossible, so no 500 reaches the files:
    // with five (0.3^6, over 60 requests) about one run in 25 ended with a stray error line.
    const results = await Promise.all(
      messages.map((m, i) => (i === 0 ? run(m, pickyEngine) : run(m, flaky, { maxRetries: 10 }))),
    );
    expect(results.map((r) => r.outcome)).toEqual(['completed', 'completed', 'completed']);
    expect(results.at(-1)?.finalizeRequested || results.some((r) => r.finalizeRequested)).toBe(true);

    expect(await finalizeBatch(as('finalizer'), ref)).toBe('finalized');
    const batch = await t.deps.batches.get(ref);
    expect(batch?.status).toBe('completed');
    const output = await fileLines(batch?.output_file_id);
    const errors = await fileLines(batch?.error_file_id);
    const failedIds = ['req-7', 'req-17', 'req-27', 'req-37'];
    expect(errors.map((l) => l.custom_id)).toEqual(failedIds);
    expect(errors.every((l) => l.response?.status_code === 400 && l.error === null)).toBe(true);
    expect(output.map((l) => l.custom_id)).toEqual(
      Array.from({ length: 100 }, (_, i) => `req-${i}`).filter((id) => !failedIds.includes(id)),
    );
    expect(output.every((l) => l.response?.status_code === 200 && l.id.startsWith('batch_req_'))).toBe(true);
    expect([batch?.total, batch?.completed, batch?.failed]).toEqual([100, 96, 4]);
  });

  it('ignores a duplicate delivery of a completed chunk', async () => {
    const { ref } = await startBatch(chatLines(30, { prefix: 'dup' }));
    const [msg] = await drain(t.env.SPOT_QUEUE_URL as string);
    const engine = new CountingEngine(new SimulatedEngine({ latencyMs: 0, failureRate: 0 }));
    expect((await run(msg as ChunkMessage, engine)).outcome).toBe('completed');
    expect((await run(msg as ChunkMessage, engine)).outcome).toBe('duplicate');
    expect(engine.calls).toBe(30);
    await finalizeBatch(as('finalizer'), ref);
    const batch = await t.deps.batches.get(ref);
    expect((await fileLines(batch?.output_file_id)).length).toBe(30);
    expect(batch?.completed).toBe(30);
  });

  it('checkpoints an interrupted chunk, hands it to dedicated, and resumes where it stopped', async () => {
    const { ref } = await startBatch(chatLines(40, { prefix: 'int' }));
    const [msg] = await drain(t.env.SPOT_QUEUE_URL as string);
    const engine = new CountingEngine(new SimulatedEngine({ latencyMs: 2, failureRate: 0 }));
    const first = await run(msg as ChunkMessage, engine, { concurrency: 1, simulateInterruptionAfter: 15 });
    expect(first.outcome).toBe('handed-off');
    expect(first.ran).toBe(15);
    const [resumed] = await drain(t.env.DEDICATED_QUEUE_URL as string);
    expect(resumed?.attempt).toBe(2);
    const second = await run(resumed as ChunkMessage, engine, { pool: 'dedicated' });
    expect(second.outcome).toBe('completed');
    expect(second.ran).toBe(25);
    expect(engine.calls).toBe(40);
    await finalizeBatch(as('finalizer'), ref);
    const batch = await t.deps.batches.get(ref);
    const ids = (await fileLines(batch?.output_file_id)).map((l) => l.custom_id);
    expect(ids).toEqual(Array.from({ length: 40 }, (_, i) => `int-${i}`));
    expect(batch?.interruptions).toBe(1);
    expect([batch?.dedicated_requests, batch?.spot_requests]).toEqual([40, undefined]);
  });

  it('expires unfinished work at the completion window with batch_expired lines', async () => {
    const { ref } = await startBatch(chatLines(90, { prefix: 'exp' }));
    const messages = await drain(t.env.SPOT_QUEUE_URL as string);
    await run(messages[0] as ChunkMessage, new SimulatedEngine({ latencyMs: 0, failureRate: 0 }));
    const later: Clock = { now: () => Date.now() + 25 * 3_600_000 };
    const report = await slaSweep({ ...as('slaMonitor'), clock: later });
    expect(report.expired).toContain(ref.batchId);
    // The finalizer message the sweep sent, and a late worker that must not count any more.
    expect(await drainRefs(t.env.FINALIZING_QUEUE_URL as string)).toBeGreaterThan(0);
    expect(
      (await run(messages[1] as ChunkMessage, new SimulatedEngine({ latencyMs: 0, failureRate: 0 }))).outcome,
    ).toBe('skipped');
    expect(await finalizeBatch(as('finalizer'), ref)).toBe('finalized');
    const batch = await t.deps.batches.get(ref);
    expect(batch?.status).toBe('expired');
    expect([batch?.completed, batch?.failed]).toEqual([40, 50]);
    const errors = await fileLines(batch?.error_file_id);
    expect(errors.map((l) => l.custom_id)).toEqual(Array.from({ length: 50 }, (_, i) => `exp-${i + 40}`));
    expect(errors[0]?.error?.code).toBe('batch_expired');
    expect(errors[0]?.response).toBeNull();
  });

  it('cancels: unstarted chunks never run and the partial output is kept', async () => {
    const { ref } = await startBatch(chatLines(80, { prefix: 'can' }));
    const messages = await drain(t.env.SPOT_QUEUE_URL as string);
    await run(messages[0] as ChunkMessage, new SimulatedEngine({ latencyMs: 0, failureRate: 0 }));
    const cancelling = await cancelBatch(as('batchesApi'), ref);
    expect(cancelling.status).toBe('cancelling');
    expect(
      (await run(messages[1] as ChunkMessage, new SimulatedEngine({ latencyMs: 0, failureRate: 0 }))).outcome,
    ).toBe('skipped');
    await drainRefs(t.env.FINALIZING_QUEUE_URL as string);
    await finalizeBatch(as('finalizer'), ref);
    const batch = await t.deps.batches.get(ref);
    expect(batch?.status).toBe('cancelled');
    expect([batch?.total, batch?.completed, batch?.failed]).toEqual([80, 40, 0]);
    expect((await fileLines(batch?.output_file_id)).length).toBe(40);
    await expect(cancelBatch(as('batchesApi'), ref)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('fails a malformed file with line-numbered errors and queues nothing', async () => {
    const content = [
      chatLines(1, { prefix: 'ok' }),
      '{not json',
      JSON.stringify({
        custom_id: 'ok-0',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm' },
      }),
      JSON.stringify({ custom_id: 'e', method: 'POST', url: '/v1/embeddings', body: { model: 'm' } }),
    ].join('\n');
    const { ref, outcome } = await startBatch(content);
    expect(outcome).toBe('failed');
    const batch = await t.deps.batches.get(ref);
    expect(batch?.status).toBe('failed');
    expect(batch?.errors?.map((e) => [e.code, e.line])).toEqual([
      ['invalid_json_line', 2],
      ['invalid_request', 3],
      ['invalid_url', 4],
    ]);
    expect(await drain(t.env.SPOT_QUEUE_URL as string)).toEqual([]);
    expect(await t.deps.batches.listChunks(ref)).toEqual([]);
  });

  it('escalates the pending chunks of an at-risk batch to dedicated, and spot then leaves them', async () => {
    const { ref } = await startBatch(chatLines(80, { prefix: 'risk' }), '1h');
    const spotCopies = await drain(t.env.SPOT_QUEUE_URL as string);
    // 20 s before the deadline, 80 requests at the assumed 5 req/s need 16 s: more than half the time left.
    const late: Clock = { now: () => Date.now() + 3_600_000 - 20_000 };
    const report = await slaSweep({ ...as('slaMonitor'), clock: late });
    expect(report.escalated).toEqual([{ batchId: ref.batchId, chunks: 2 }]);
    const dedicatedCopies = await drain(t.env.DEDICATED_QUEUE_URL as string);
    expect(dedicatedCopies.map((m) => m.chunk)).toEqual([0, 1]);
    const engine = new SimulatedEngine({ latencyMs: 0, failureRate: 0 });
    expect((await run(spotCopies[0] as ChunkMessage, engine)).outcome).toBe('skipped');
    expect((await run(dedicatedCopies[0] as ChunkMessage, engine, { pool: 'dedicated' })).outcome).toBe(
      'completed',
    );
    const batch = await t.deps.batches.get(ref);
    expect(batch?.at_risk).toBe(true);
    expect(batch?.chunks_escalated).toBe(2);
    // A second sweep does not send the same chunks again.
    expect((await slaSweep({ ...as('slaMonitor'), clock: late })).escalated).toEqual([]);
  });
});

describe('a file validated over several scheduler invocations', () => {
  it('resumes from S3 ranged reads and the saved state, and plans as one pass would', async () => {
    const file = await createFile(as('filesApi'), tenant, {
      filename: 'seg.jsonl',
      purpose: 'batch',
      content: Buffer.from(chatLines(100, { prefix: 'seg' })),
    });
    // As a file assembled by the Uploads API (the way files this large come): no plan made at
    // upload (core/chunks/file-plan.ts), so the scheduler reads and validates it.
    const { plan: _planned, ...unplanned } = (await t.deps.files.get(tenant, file.id)) as FileRecord;
    await t.deps.files.put(unplanned);
    const batch = await createBatch(as('batchesApi'), tenant, {
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await drainRefs(t.env.SCHEDULING_QUEUE_URL as string);
    const ref = { tenant, batchId: batch.id };
    const scheduler = as('scheduler');
    const segmented = { ...scheduler, limits: { ...scheduler.limits, SCHEDULER_SEGMENT_LINES: 30 } };
    const outcomes: string[] = [];
    for (;;) {
      const outcome = await scheduleBatch(segmented, ref);
      outcomes.push(outcome);
      if (outcome !== 'continued') break;
      expect(await drainRefs(t.env.SCHEDULING_QUEUE_URL as string)).toBe(1);
    }
    expect(outcomes).toEqual(['continued', 'continued', 'continued', 'scheduled']);
    expect(await t.deps.batches.get(ref)).toMatchObject({
      status: 'in_progress',
      total: 100,
      chunk_count: 3,
    });
    const msgs = await drain(t.env.SPOT_QUEUE_URL as string);
    expect(msgs.map((m) => [m.lineStart, m.lineEnd])).toEqual([
      [1, 40],
      [41, 80],
      [81, 100],
    ]);
    const engine = new SimulatedEngine({ latencyMs: 0, failureRate: 0 });
    for (const m of msgs) await run(m, engine);
    expect(await finalizeBatch(as('finalizer'), ref)).toBe('finalized');
    const done = await t.deps.batches.get(ref);
    expect((await fileLines(done?.output_file_id)).map((l) => l.custom_id).sort()).toEqual(
      Array.from({ length: 100 }, (_, i) => `seg-${i}`).sort(),
    );
  });
});

describe('wiring: each flow runs with exactly its declaration', () => {
  it('runs the SLA escalation path with only the SLA monitor’s variables and grants (above), and names what an undeclared use touched', async () => {
    const { ref } = await startBatch(chatLines(80, { prefix: 'wire' }), '1h');
    await drain(t.env.SPOT_QUEUE_URL as string);
    const late: Clock = { now: () => Date.now() + 3_600_000 - 20_000 };
    // The SLA monitor as first declared (no chunks table): on AWS it would lack the variable and
    // the grant; here the sweep fails at once, naming the function and the table.
    const narrow = depsFor(
      'slaMonitor',
      { tables: { batches: 'readWrite', pools: 'read' }, queues: ['dedicated', 'finalizing'] },
      { ...t.env, AWS_REGION: 'us-east-1' },
      t.aws,
    );
    await expect(slaSweep({ ...narrow, clock: late })).rejects.toThrow(
      new WiringError("slaMonitor uses table 'chunks' but does not declare it (core/app/declaration.ts)"),
    );
    expect((await slaSweep({ ...as('slaMonitor'), clock: late })).escalated).toContainEqual({
      batchId: ref.batchId,
      chunks: 2,
    });
    expect((await drain(t.env.DEDICATED_QUEUE_URL as string)).map((m) => m.batchId)).toEqual([
      ref.batchId,
      ref.batchId,
    ]);
  });

  it('refuses what the declaration does not grant: a worker delete, an authorizer write', async () => {
    await expect(as('worker').blobs.delete(`${tenant}/files/x.jsonl`)).rejects.toThrow(
      'worker is not authorized to perform s3:DeleteObject',
    );
    await expect(as('authorizer').apiKeys.register('sk-x', 'tenant-x')).rejects.toThrow(
      'authorizer is not authorized to perform dynamodb:PutItem',
    );
  });
});

describe('after finalization', () => {
  it('removes the batch’s chunk parts and checkpoints, keeping the result files', async () => {
    const { ref } = await startBatch(chatLines(50, { prefix: 'clean' }));
    const engine = new SimulatedEngine({ latencyMs: 0, failureRate: 0 });
    const [first, second] = await drain(t.env.SPOT_QUEUE_URL as string);
    await run(first as ChunkMessage, engine, { concurrency: 1, simulateInterruptionAfter: 10 });
    const [resumed] = await drain(t.env.DEDICATED_QUEUE_URL as string);
    await run(resumed as ChunkMessage, engine, { pool: 'dedicated' });
    await run(second as ChunkMessage, engine);
    expect(await finalizeBatch(as('finalizer'), ref)).toBe('finalized');
    expect(await t.deps.blobs.deletePrefix(`${tenant}/batches/${ref.batchId}/`)).toBe(0);
    const batch = await t.deps.batches.get(ref);
    expect((await fileLines(batch?.output_file_id)).length).toBe(50);
  });
});
