import { describe, expect, it } from 'vitest';
import type { TaskReport } from '../../../../core/pools/task-report.js';
import { TaskReporter } from '../../../../gpu-worker/src/task-reporter.js';
import { InMemoryPoolReports } from '../../../support/fakes.js';

describe('TaskReporter', () => {
  it("writes the task's report over the interval since its last, and carries the figures of a failed write into the next", async () => {
    let now = 1_800_000_000_000;
    const activity = [
      { answered: 500, busyMs: 20_000 },
      { answered: 300, busyMs: 10_000 },
      { answered: 0, busyMs: 0 },
    ];
    const repo = new InMemoryPoolReports();
    let fail = false;
    const written: TaskReport[] = [];
    const flaky = {
      put: async (r: TaskReport) => {
        if (fail) throw new Error('throttled');
        written.push(r);
        await repo.put(r);
      },
      recent: repo.recent.bind(repo),
      asked: repo.asked.bind(repo),
      putAsked: repo.putAsked.bind(repo),
    };
    const reporter = new TaskReporter(
      flaky,
      { group: 'gpu', pool: 'dedicated' },
      () => activity.shift() ?? { answered: 0, busyMs: 0 },
      () => now,
      'host-1#42',
    );
    now += 60_000;
    fail = true;
    await reporter.report(); // lost: 500 answered in 20 s carried over
    fail = false;
    now += 60_000;
    await reporter.report();
    expect(written).toEqual([
      {
        pool: 'gpu#dedicated',
        task: 'host-1#42',
        at: 1_800_000_120,
        interval_s: 120,
        answered: 800,
        busy_ms: 30_000,
        ttl: 1_800_003_720,
      },
    ]);
    now += 60_000;
    await reporter.report(); // idle, still running: reported
    expect(await repo.recent('gpu#dedicated', 0)).toEqual([
      expect.objectContaining({
        task: 'host-1#42',
        at: 1_800_000_180,
        interval_s: 60,
        answered: 0,
        busy_ms: 0,
      }),
    ]);
  });
});
