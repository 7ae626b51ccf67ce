import { describe, expect, it } from 'vitest';
import { FINALIZER_LEASE_S } from '../../../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import { type BatchRef, batchKey, type ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { askedKey } from '../../../../core/pools/task-report.js';
import { slaSweep } from '../../../../core/sla/sla-sweep.js';
import { createdBatch, type FakeDeps, fakeDeps, jsonlOf, scheduledBatch } from '../../../support/fakes.js';

const HOUR = 3_600_000;

async function scheduled(deps: FakeDeps, n: number, window = '1h'): Promise<BatchRef> {
  return (await scheduledBatch(deps, n, { completion_window: window })).ref;
}

const settings = { COMPLETION_WINDOWS: '24h,1h', CHUNK_MAX_LINES: '40' };

describe('slaSweep (in-memory ports, fake clock)', () => {
  it('leaves a batch on track alone', async () => {
    const deps = fakeDeps(settings);
    await scheduled(deps, 80);
    const report = await slaSweep(deps);
    expect(report).toMatchObject({
      active: { in_progress: 1 },
      expired: [],
      escalated: [],
      finalizeRequested: [],
    });
    expect(deps.queue.sent).toEqual([]);
  });

  it('escalates the pending chunks of an at-risk batch to dedicated once, with the stored input key', async () => {
    const deps = fakeDeps(settings);
    const ref = await scheduled(deps, 80);
    // 20 s before the deadline, 80 requests at the assumed 5 req/s need 16 s: over half the time left.
    deps.clock.advance(HOUR - 20_000);
    expect((await slaSweep(deps)).escalated).toEqual([{ batchId: ref.batchId, chunks: 2 }]);
    const copies = deps.queue.take<ChunkMessage>('dedicated');
    expect(copies.map((c) => c.chunk)).toEqual([0, 1]);
    expect(copies[0]?.key).toBe((await deps.batches.get(ref))?.input_key);
    expect((await slaSweep(deps)).escalated).toEqual([]);
  });

  it('does not look up the input file to escalate (the SLA monitor has no files table)', async () => {
    const deps = fakeDeps(settings);
    await scheduled(deps, 80);
    deps.files.files.clear();
    deps.clock.advance(HOUR - 20_000);
    expect((await slaSweep(deps)).escalated).toHaveLength(1);
  });

  it('expires a batch at its window and asks the finalizer to write what it has', async () => {
    const deps = fakeDeps(settings);
    const ref = await scheduled(deps, 10);
    deps.clock.advance(HOUR);
    expect((await slaSweep(deps)).expired).toEqual([ref.batchId]);
    expect(await deps.batches.get(ref)).toMatchObject({ status: 'finalizing', end_reason: 'expired' });
    expect(deps.queue.take('finalizing')).toEqual([ref]);
  });

  it('re-requests finalization for a batch stuck in finalizing past the finalizer lease', async () => {
    const deps = fakeDeps(settings);
    const ref = await scheduled(deps, 10);
    await deps.batches.transition(ref, 'finalizing', Math.floor(deps.clock.now() / 1000), {}, [
      'in_progress',
    ]);
    expect((await slaSweep(deps)).finalizeRequested).toEqual([]);
    deps.clock.advance(FINALIZER_LEASE_S * 1000);
    expect((await slaSweep(deps)).finalizeRequested).toEqual([ref.batchId]);
  });
});

describe('slaSweep judges running batches from their counters', () => {
  /** Marks every chunk of `ref` done in the records, as completions would, counting `counted` on the batch. */
  async function completeAll(deps: FakeDeps, ref: BatchRef, counted: number) {
    for (const c of await deps.batches.listChunks(ref)) {
      await deps.batches.completeChunk(ref, c.chunk, {
        completed: c.requests,
        failed: 0,
        outputKey: `out-${c.chunk}`,
        errorKey: undefined,
        pool: 'spot',
      });
    }
    const record = deps.batches.batches.get(batchKey(ref));
    if (record) record.chunks_done = counted;
  }

  it('reads no chunk record of a batch on track', async () => {
    const deps = fakeDeps(settings);
    await scheduled(deps, 80);
    expect(await slaSweep(deps)).toMatchObject({ chunkReads: 0, finalizeRequested: [] });
  });

  it('reads the records when the counters say done, and asks for finalization from them', async () => {
    const deps = fakeDeps(settings);
    const ref = await scheduled(deps, 80);
    await completeAll(deps, ref, 2);
    expect(await slaSweep(deps)).toMatchObject({ chunkReads: 1, finalizeRequested: [ref.batchId] });
  });

  it('finds a batch whose counter lost an update at the next reconciliation, SLA_RECONCILE_SECONDS into its run', async () => {
    const deps = fakeDeps({ ...settings, SLA_RECONCILE_SECONDS: '600' });
    const { ref } = await scheduledBatch(deps, 80, { completion_window: '24h' });
    await completeAll(deps, ref, 1); // every record done, the counter one short
    expect(await slaSweep(deps)).toMatchObject({ chunkReads: 0, finalizeRequested: [] });
    deps.clock.advance(300_000);
    expect(await slaSweep(deps)).toMatchObject({ chunkReads: 0, finalizeRequested: [] });
    deps.clock.advance(300_000);
    expect(await slaSweep(deps)).toMatchObject({ chunkReads: 1, finalizeRequested: [ref.batchId] });
  });

  it('stops reading an escalated batch: every pending chunk was sent at once', async () => {
    const deps = fakeDeps(settings);
    const ref = await scheduled(deps, 80);
    deps.clock.advance(HOUR - 20_000);
    expect(await slaSweep(deps)).toMatchObject({
      chunkReads: 1,
      escalated: [{ batchId: ref.batchId, chunks: 2 }],
    });
    expect(await slaSweep(deps)).toMatchObject({ chunkReads: 0, escalated: [] });
  });
});

describe('slaSweep on a batch stuck validating (its scheduling message lost)', () => {
  const stuck = async (deps: FakeDeps) => (await createdBatch(deps, jsonlOf(3))).ref; // its message never arrives

  const settings = { VALIDATION_STALL_SECONDS: '60', VALIDATION_REDRIVES: '2' };

  it('re-drives it after the stall bound, twice, then fails it with a clear error', async () => {
    const deps = fakeDeps(settings);
    const ref = await stuck(deps);
    expect((await slaSweep(deps)).redriven).toEqual([]);
    deps.clock.advance(60_000);
    expect((await slaSweep(deps)).redriven).toEqual([ref.batchId]);
    expect(deps.queue.take('scheduling')).toEqual([ref]);
    expect((await slaSweep(deps)).redriven).toEqual([]); // the bound starts again from the re-drive
    deps.clock.advance(60_000);
    expect((await slaSweep(deps)).redriven).toEqual([ref.batchId]);
    deps.clock.advance(60_000);
    const last = await slaSweep(deps);
    expect(last).toMatchObject({ redriven: [], stalled: [ref.batchId] });
    expect(await deps.batches.get(ref)).toMatchObject({
      status: 'failed',
      errors: [expect.objectContaining({ code: 'validation_stalled' })],
    });
  });

  it('leaves a batch alone while its validation makes progress', async () => {
    const deps = fakeDeps({ ...settings, SCHEDULER_SEGMENT_LINES: '1' });
    const ref = await stuck(deps);
    deps.clock.advance(50_000);
    await scheduleBatch(deps, ref); // one segment done: progress
    deps.queue.take('scheduling');
    deps.clock.advance(50_000);
    expect((await slaSweep(deps)).redriven).toEqual([]);
  });
});

describe('slaSweep on a running batch whose next chunks were never sent (a lost chain message)', () => {
  const windowed = { ...settings, DISPATCH_WINDOW_CHUNKS: '2', DISPATCH_STALL_SECONDS: '900' };

  it('sends its pending chunks again, windowed, once no chunk completed for DISPATCH_STALL_SECONDS', async () => {
    const deps = fakeDeps(windowed);
    const { ref, msgs: first } = await scheduledBatch(deps, 200, { completion_window: '24h' }); // 5 chunks of 40
    expect(first.map((m) => [m.chunk, (m.chain ?? []).map(([c]) => c)])).toEqual([
      [0, [2, 4]],
      [1, [3]],
    ]);
    // Chunk 0 completes, and its worker dies before it sends chunk 2: nothing else will.
    deps.clock.advance(60_000);
    const at = Math.floor(deps.clock.now() / 1000);
    const outcome = {
      completed: 40,
      failed: 0,
      outputKey: 'o',
      errorKey: undefined,
      pool: 'spot' as const,
      at,
    };
    expect(await deps.batches.completeChunk(ref, 0, outcome)).toBe(true);
    deps.clock.advance(899_000);
    expect((await slaSweep(deps)).redispatched).toEqual([]);
    deps.clock.advance(1_000);
    expect((await slaSweep(deps)).redispatched).toEqual([{ batchId: ref.batchId, chunks: 4 }]);
    const again = deps.queue.take<ChunkMessage>('spot');
    expect(again.map((m) => [m.chunk, (m.chain ?? []).map(([c]) => c)])).toEqual([
      [1, [3]],
      [2, [4]],
    ]);
    // The next sweeps wait a whole stall again before another try.
    deps.clock.advance(60_000);
    expect((await slaSweep(deps)).redispatched).toEqual([]);
    expect(deps.queue.take('spot')).toEqual([]);
  });

  it('leaves alone a batch whose chunks keep completing, however long it runs', async () => {
    const deps = fakeDeps(windowed);
    const { ref } = await scheduledBatch(deps, 200, { completion_window: '24h' });
    for (const chunk of [0, 1, 2]) {
      deps.clock.advance(800_000);
      const at = Math.floor(deps.clock.now() / 1000);
      await deps.batches.completeChunk(ref, chunk, {
        completed: 40,
        failed: 0,
        outputKey: 'o',
        errorKey: undefined,
        pool: 'spot',
        at,
      });
      expect((await slaSweep(deps)).redispatched).toEqual([]);
    }
    expect(deps.queue.take('spot')).toEqual([]);
  });
});

describe('slaSweep with the pools’ task reports', () => {
  const report = (deps: FakeDeps, task: string, answered: number, busyMs: number) =>
    deps.pools.put({
      pool: 'default#spot',
      task,
      at: Math.floor(deps.clock.now() / 1000),
      interval_s: 60,
      answered,
      busy_ms: busyMs,
      ttl: 0,
    });

  it('judges a batch at the measured rate: the at-risk batch of the assumed rate is on track at a measured one', async () => {
    const assumed = fakeDeps(settings);
    await scheduled(assumed, 80);
    assumed.clock.advance(HOUR - 20_000);
    expect((await slaSweep(assumed)).escalated).toHaveLength(1);

    const measured = fakeDeps(settings);
    await scheduled(measured, 80);
    measured.clock.advance(HOUR - 20_000);
    // Two spot tasks that answered 100 requests per busy second.
    await report(measured, 'a', 6_000, 60_000);
    await report(measured, 'b', 3_000, 30_000);
    const sweep = await slaSweep(measured);
    expect(sweep.escalated).toEqual([]);
    expect(sweep.observed.default?.spot).toEqual({ requestsPerSecondPerTask: 100, running: 2, busy: 2 });
    expect(sweep.observed.default?.dedicated).toEqual({ running: 0, busy: 0 });
  });

  it('counts the dedicated tasks it asked for and that do not report yet as starting, with their time left', async () => {
    const deps = fakeDeps({
      ...settings,
      SLA_DEDICATED_MIN_TASKS: '0',
      SLA_DEDICATED_MAX_TASKS: '3',
      SLA_TASK_STARTUP_SECONDS: '300',
    });
    await scheduled(deps, 80);
    // 200 s left, less than a start-up, none running: every dedicated task it may have.
    deps.clock.advance(HOUR - 200_000);
    const first = await slaSweep(deps);
    expect(first.groupDesiredTasks.default?.dedicated).toBe(3);
    expect(first.observed.default?.dedicated).toEqual({ running: 0, busy: 0 });
    expect(await deps.pools.asked([askedKey('default', 'dedicated')])).toEqual([
      expect.objectContaining({ desired: 3, raised_at: Math.floor(deps.clock.now() / 1000) }),
    ]);
    // A minute later one of them reports; the other two are still starting, 240 s to go.
    deps.clock.advance(60_000);
    await deps.pools.put({
      pool: 'default#dedicated',
      task: 'd1',
      at: Math.floor(deps.clock.now() / 1000),
      interval_s: 60,
      answered: 0,
      busy_ms: 0,
      ttl: 0,
    });
    const second = await slaSweep(deps);
    expect(second.observed.default?.dedicated).toEqual({
      running: 1,
      busy: 0,
      pending: 2,
      pendingReadySeconds: 240,
    });
  });

  it('reads no report while no batch runs', async () => {
    const deps = fakeDeps(settings);
    await report(deps, 'a', 6_000, 60_000);
    expect((await slaSweep(deps)).observed).toEqual({});
  });
});
