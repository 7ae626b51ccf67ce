import { describe, expect, it } from 'vitest';
import { keys } from '../../../../core/adapters/blob-store.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { planChunks } from '../../../../core/chunks/plan-chunks.js';
import { decodePlannerState, encodePlannerState } from '../../../../core/chunks/planner-state.js';
import { createdBatch, type FakeDeps, fakeDeps, jsonlOf } from '../../../support/fakes.js';

const tenant = 'acme';

// Files too large for one invocation come through the Uploads API, which plans nothing at upload.
const created = async (deps: FakeDeps, content: string) =>
  (await createdBatch(deps, content, {}, tenant, { unplanned: true })).ref;

/** Runs the scheduler as SQS would: again for every continuation message, until it settles. */
async function runToEnd(deps: FakeDeps, ref: { tenant: string; batchId: string }) {
  const outcomes: string[] = [];
  for (;;) {
    const outcome = await scheduleBatch(deps, ref);
    outcomes.push(outcome);
    if (outcome !== 'continued') return outcomes;
    expect(deps.queue.take('scheduling')).toEqual([ref]);
  }
}

describe('scheduleBatch across invocations (a file too large for one)', () => {
  it('validates in segments, each resuming where the last stopped, to the same chunks as one pass', async () => {
    const settings = { CHUNK_MAX_LINES: '4', SCHEDULER_SEGMENT_LINES: '3' };
    const deps = fakeDeps(settings);
    const content = `${jsonlOf(10)}\n`;
    const ref = await created(deps, content);
    expect(await runToEnd(deps, ref)).toEqual(['continued', 'continued', 'continued', 'scheduled']);
    const batch = await deps.batches.get(ref);
    expect(batch).toMatchObject({ status: 'in_progress', total: 10, chunk_count: 3, validation_segment: 3 });
    const oneShot = await planChunks(
      (async function* () {
        yield Buffer.from(content);
      })(),
      { endpoint: '/v1/chat/completions', limits: fakeDeps({ CHUNK_MAX_LINES: '4' }).limits },
    );
    expect(oneShot.ok && oneShot.chunks).toEqual(
      (await deps.batches.listChunks(ref)).map(
        ({ chunk, byteStart, byteEnd, lineStart, lineEnd, requests }) => ({
          chunk,
          byteStart,
          byteEnd,
          lineStart,
          lineEnd,
          requests,
        }),
      ),
    );
    expect(deps.queue.take<ChunkMessage>('spot')).toHaveLength(3);
    // The saved states are gone once the batch runs.
    expect([...deps.blobs.objects.keys()].filter((k) => k.includes('/validation/'))).toEqual([]);
  });

  it('finds a custom_id repeated in a later segment, and fails the batch with its line', async () => {
    const deps = fakeDeps({ SCHEDULER_SEGMENT_LINES: '2' });
    const lines = jsonlOf(5).split('\n');
    lines.push(lines[0] as string);
    const ref = await created(deps, lines.join('\n'));
    expect((await runToEnd(deps, ref)).at(-1)).toBe('failed');
    const batch = await deps.batches.get(ref);
    expect(batch?.status).toBe('failed');
    expect(batch?.errors).toEqual([expect.objectContaining({ line: 6, param: 'custom_id' })]);
    expect([...deps.blobs.objects.keys()].filter((k) => k.includes('/validation/'))).toEqual([]);
  });

  it('runs a segment once although its message is delivered twice, at the same time', async () => {
    const deps = fakeDeps({ SCHEDULER_SEGMENT_LINES: '2' });
    const ref = await created(deps, jsonlOf(5));
    // Both copies read segment 0; only one may move the batch on and ask for the next segment.
    const outcomes = await Promise.all([scheduleBatch(deps, ref), scheduleBatch(deps, ref)]);
    expect(outcomes.sort()).toEqual(['continued', 'not-validating']);
    expect(deps.queue.take('scheduling')).toEqual([ref]);
    expect((await runToEnd(deps, ref)).at(-1)).toBe('scheduled');
    expect((await deps.batches.get(ref))?.total).toBe(5);
  });

  it('ends a segment on the time budget, not only on lines', async () => {
    const deps = fakeDeps({ SCHEDULER_SEGMENT_SECONDS: '1' });
    const ref = await created(deps, jsonlOf(2500));
    let calls = 0;
    // Each clock read moves time on by 0.6 s: the check after 1,000 lines finds the budget spent at 2,000.
    deps.clock.now = () => Date.UTC(2026, 0, 1) + 600 * calls++;
    expect(await scheduleBatch(deps, ref)).toBe('continued');
    const state = decodePlannerState(await deps.blobs.read(keys.validationState(tenant, ref.batchId, 1)));
    expect(state.total).toBe(2000);
    expect(state.line).toBe(2001);
  });
});

describe('planner state codec', () => {
  it('round-trips the state, digests as raw bytes', () => {
    const state = {
      byte: 10,
      line: 3,
      chunks: [{ chunk: 0, byteStart: 0, byteEnd: 10, lineStart: 1, lineEnd: 2, requests: 2 }],
      total: 2,
      model: 'm',
      errors: [],
      ids: Buffer.alloc(32, 7),
    };
    const bytes = encodePlannerState(state);
    expect(bytes.length).toBeLessThan(200);
    expect(decodePlannerState(bytes)).toEqual(state);
  });
});
