import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AskedRecord, askedKey, poolKey, type TaskReport } from '../../core/pools/task-report.js';
import { startTestAws, type TestAws } from '../support/test-aws.js';

let t: TestAws;
beforeAll(async () => {
  t = await startTestAws();
});
afterAll(() => t?.close());

const report = (task: string, at: number): TaskReport => ({
  pool: poolKey('default', 'dedicated'),
  task,
  at,
  interval_s: 60,
  answered: 10,
  busy_ms: 1_000,
  ttl: at + 3_600,
});

describe('PoolReports against the emulator', () => {
  it("keeps what the SLA monitor asked a pool for apart from the pool's task reports", async () => {
    await t.deps.pools.put(report('task-1', 1_000));
    const asked: AskedRecord = {
      pool: askedKey('default', 'dedicated'),
      task: 'asked',
      desired: 3,
      raised_at: 990,
      at: 1_000,
      ttl: 87_400,
    };
    await t.deps.pools.putAsked(asked);
    expect((await t.deps.pools.recent(poolKey('default', 'dedicated'), 0)).map((r) => r.task)).toEqual([
      'task-1',
    ]);
    // One BatchGet for every pool asked about; a pool never asked for is left out.
    expect(await t.deps.pools.asked([askedKey('default', 'dedicated'), askedKey('default', 'spot')])).toEqual(
      [asked],
    );
    await t.deps.pools.putAsked({ ...asked, desired: 5, raised_at: 1_060, at: 1_060 });
    expect((await t.deps.pools.asked([asked.pool]))[0]?.desired).toBe(5);
  });
});
