import { describe, expect, it } from 'vitest';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import { ApiError } from '../../../../core/errors.js';
import { admitAtCreate, estimatedRequests } from '../../../../core/sla/admission.js';
import { createdBatch, fakeDeps, jsonlOf } from '../../../support/fakes.js';

/**
 * Admission through core/policy `admit`: at create on the requests estimated from the file's
 * size, again at the end of validation on the exact count and the running batches.
 */

const H_MS = 3_600_000;
const windows = { COMPLETION_WINDOWS: '24h,1h' };

describe('estimatedRequests', () => {
  it.each([
    [0, 2048, 1],
    [2048, 2048, 1],
    [2049, 2048, 2],
    [1_000_000, 1000, 1000],
  ])('%i bytes at %i bytes each: %i requests', (bytes, per, n) =>
    expect(estimatedRequests(bytes, per)).toBe(n),
  );
});

describe('admitAtCreate (one dedicated task running, 5 requests/s)', () => {
  const deps = (env: Record<string, string> = {}) => fakeDeps({ ...windows, ...env });
  const at = (inputBytes: number, windowMs: number, env: Record<string, string> = {}) =>
    admitAtCreate(deps(env), { tenant: 't', priority: 'normal', inputBytes, nowMs: 0, windowMs });

  it.each<[string, number, number, Record<string, string>, 'accepted' | 'refused' | 'warned']>([
    // 2,048 bytes a request: 36,000 requests take 2 h at 5/s.
    ['fits its window', 2048 * 1000, H_MS, {}, 'accepted'],
    ['exactly fills its window', 2048 * 18_000, H_MS, {}, 'accepted'],
    ['needs more than its window', 2048 * 18_001, H_MS, {}, 'refused'],
    ['needs more, the deployment warns', 2048 * 18_001, H_MS, { SLA_ADMISSION: 'warn' }, 'warned'],
    [
      'fits on two dedicated tasks',
      2048 * 30_000,
      H_MS,
      { SLA_DEDICATED_MAX_TASKS: '2', SLA_DEDICATED_MIN_TASKS: '2' },
      'accepted',
    ],
    // Tasks not running pay the start-up (180 s by default) first.
    ['fits only without the start-up', 2048 * 17_500, H_MS, { SLA_DEDICATED_MIN_TASKS: '0' }, 'refused'],
    [
      'no dedicated capacity at all',
      2048,
      24 * H_MS,
      { SLA_DEDICATED_MAX_TASKS: '0', SLA_DEDICATED_MIN_TASKS: '0' },
      'warned',
    ],
  ])('%s', (_, bytes, windowMs, env, outcome) => {
    const admission = at(bytes, windowMs, env);
    const got = !admission.accepted ? 'refused' : admission.warning ? 'warned' : 'accepted';
    expect(got).toBe(outcome);
    if (!admission.accepted) expect(admission.reason).toMatch(/^Estimated from the input file's size/);
  });

  it('is a 400 in OpenAI shape at create, before anything is stored or sent', async () => {
    const d = fakeDeps({ ...windows, SLA_ASSUMED_REQUESTS_PER_SECOND: '0.0001' });
    const err = await createdBatch(d, jsonlOf(10), { completion_window: '1h' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 400,
      param: 'completion_window',
      code: 'completion_window_infeasible',
    });
    expect((err as ApiError).message).toContain('more than the 1h left in the completion window');
    expect(d.batches.batches.size).toBe(0);
    expect(d.queue.sent).toEqual([]);
    expect([...d.files.files.values()].every((f) => !f.in_use_by?.size)).toBe(true);
  });

  it('with warn, creates the batch with openbatch.admission_warning', async () => {
    const d = fakeDeps({ ...windows, SLA_ASSUMED_REQUESTS_PER_SECOND: '0.0001', SLA_ADMISSION: 'warn' });
    const { ref } = await createdBatch(d, jsonlOf(10), { completion_window: '1h' });
    expect((await d.batches.get(ref))?.admission_warning).toMatch(/^Estimated from the input file's size/);
  });
});

describe('admission at the end of validation (scheduleBatch)', () => {
  // 0.5 requests/s: 1,800 requests fill a 1 h window on the one dedicated task. The estimate at
  // create (bytes / 2,048, about 100 bytes a line) is far lower, so create accepts them all.
  const env = { ...windows, CHUNK_MAX_LINES: '100', SLA_ASSUMED_REQUESTS_PER_SECOND: '0.5' };

  it.each<[string, number, number, 'scheduled' | 'failed']>([
    ['fits alone', 1000, 0, 'scheduled'],
    ['needs more than its window alone', 2000, 0, 'failed'],
    ['fits alone, not after a running batch due first', 1000, 1000, 'failed'],
    ['fits after a smaller running batch', 600, 1000, 'scheduled'],
  ])('%s', async (_, n, runningFirst, outcome) => {
    const deps = fakeDeps(env);
    if (runningFirst > 0) {
      const first = await createdBatch(deps, jsonlOf(runningFirst, 'first'), { completion_window: '1h' });
      expect(await scheduleBatch(deps, first.ref)).toBe('scheduled');
      deps.clock.advance(1000);
    }
    const { ref } = await createdBatch(deps, jsonlOf(n), { completion_window: '1h' });
    expect(await scheduleBatch(deps, ref)).toBe(outcome);
    const batch = await deps.batches.get(ref);
    if (outcome === 'failed') {
      expect(batch?.errors).toEqual([
        expect.objectContaining({
          code: 'completion_window_infeasible',
          param: 'completion_window',
          line: null,
        }),
      ]);
      expect(
        deps.queue.sent.filter(
          (m) => m.queue !== 'scheduling' && (m.body as { batchId: string }).batchId === ref.batchId,
        ),
      ).toEqual([]);
    } else {
      expect(batch?.status).toBe('in_progress');
    }
  });

  it('with warn, runs the batch and sets the warning from the exact count, or clears the one from create', async () => {
    const deps = fakeDeps({ ...env, SLA_ADMISSION: 'warn' });
    const { ref } = await createdBatch(deps, jsonlOf(2000), { completion_window: '1h' });
    expect(await scheduleBatch(deps, ref)).toBe('scheduled');
    expect((await deps.batches.get(ref))?.admission_warning).toMatch(/^2000 requests need about 1h 7m/);

    const alone = fakeDeps({ ...env, SLA_ADMISSION: 'warn' });
    const small = await createdBatch(alone, jsonlOf(10, 'small'), { completion_window: '1h' });
    await alone.batches.update(small.ref, {
      admission_warning: 'Estimated from the input file size: too big',
    });
    expect(await scheduleBatch(alone, small.ref)).toBe('scheduled');
    expect((await alone.batches.get(small.ref))?.admission_warning).toBeNull();
  });
});
