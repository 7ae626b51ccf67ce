import { describe, expect, it } from 'vitest';
import { type BatchRecord, newBatchRecord } from '../../../../core/batches/batch-record.js';
import type { BatchPriority } from '../../../../core/openai/schemas.js';
import { routeForChunks } from '../../../../core/sla/routing.js';
import { fakeDeps } from '../../../support/fakes.js';

const H_MS = 3_600_000;

function batch(total: number, priority: BatchPriority, extra: Partial<BatchRecord> = {}): BatchRecord {
  return {
    ...newBatchRecord({
      tenant: 't',
      id: 'batch_1',
      endpoint: '/v1/chat/completions',
      inputFileId: 'file-1',
      inputKey: 'k',
      inputBytes: 1,
      completionWindow: '1h',
      windowMs: H_MS,
      metadata: null,
      priority,
      nowMs: 0,
    }),
    status: 'in_progress',
    total,
    ...extra,
  };
}

describe('routeForChunks (the scheduler asks core/policy where a new batch goes)', () => {
  // One dedicated task at 1 request/s, already running: N requests in a 1 h window have a
  // pressure of N / 3,600 (thresholds: high 0.5, normal 0.7, low 0.8).
  it.each<[string, number, BatchPriority, Record<string, string>, 'spot' | 'dedicated', boolean]>([
    ['time to spare, high priority', 1000, 'high', {}, 'spot', false],
    ['time to spare, low priority', 1000, 'low', {}, 'spot', false],
    ['pressure 0.56: high escalates', 2000, 'high', {}, 'dedicated', true],
    ['pressure 0.56: normal stays on Spot', 2000, 'normal', {}, 'spot', false],
    ['pressure 0.75: normal escalates', 2700, 'normal', {}, 'dedicated', true],
    ['pressure 0.75: low stays on Spot', 2700, 'low', {}, 'spot', false],
    [
      'price inversion: dedicated, not at risk',
      10,
      'low',
      { SLA_SPOT_PRICE_PER_TASK_HOUR: '1', SLA_ON_DEMAND_PRICE_PER_TASK_HOUR: '0.8' },
      'dedicated',
      false,
    ],
    [
      'no Spot capacity: dedicated',
      10,
      'normal',
      { SLA_SPOT_MAX_TASKS: '0', SLA_SPOT_MIN_TASKS: '0' },
      'dedicated',
      false,
    ],
    [
      'no dedicated capacity: Spot, at risk',
      2700,
      'normal',
      { SLA_DEDICATED_MAX_TASKS: '0', SLA_DEDICATED_MIN_TASKS: '0' },
      'spot',
      true,
    ],
  ])('%s', (_, total, priority, env, pool, atRisk) => {
    const deps = fakeDeps({ SLA_ASSUMED_REQUESTS_PER_SECOND: '1', ...env });
    const route = routeForChunks(deps, batch(total, priority), 0);
    expect(route.pool).toBe(pool);
    expect(route.fields).toMatchObject({ route_pool: pool, at_risk: atRisk });
  });

  it('keeps the pool the SLA monitor last routed the batch to, and stores nothing', () => {
    const deps = fakeDeps({ SLA_ASSUMED_REQUESTS_PER_SECOND: '1' });
    expect(routeForChunks(deps, batch(10, 'normal', { route_pool: 'dedicated' }), 0)).toEqual({
      pool: 'dedicated',
      fields: {},
    });
  });
});
