import { hostname } from 'node:os';
import { log } from '../../core/observability/log.js';
import type { Pool } from '../../core/policy/index.js';
import { poolKey, type TaskReport } from '../../core/pools/task-report.js';
import type { PoolReportRepo } from '../../core/ports.js';

/**
 * Writes this task's report to the pools table (core/pools/task-report.ts): that it runs, and
 * the requests its engine answered and the time it was busy since the last report. The SLA
 * monitor measures each pool's throughput and counts its tasks from them. A failed write is
 * logged and the figures go into the next report: the policy then falls back for a minute.
 */
export class TaskReporter {
  private last: number;
  private carried = { answered: 0, busyMs: 0 };

  constructor(
    private readonly repo: PoolReportRepo,
    private readonly where: { group: string; pool: Pool },
    private readonly activity: () => { answered: number; busyMs: number },
    private readonly now: () => number = Date.now,
    private readonly task = `${hostname()}#${process.pid}`,
  ) {
    this.last = now();
  }

  async report(): Promise<void> {
    const now = this.now();
    const a = this.activity();
    const answered = a.answered + this.carried.answered;
    const busyMs = a.busyMs + this.carried.busyMs;
    const at = Math.floor(now / 1000);
    const item: TaskReport = {
      pool: poolKey(this.where.group, this.where.pool),
      task: this.task,
      at,
      interval_s: Math.max(1, Math.round((now - this.last) / 1000)),
      answered,
      busy_ms: Math.round(busyMs),
      ttl: at + 3600,
    };
    try {
      await this.repo.put(item);
      this.last = now;
      this.carried = { answered: 0, busyMs: 0 };
    } catch (err) {
      this.carried = { answered, busyMs };
      log.warn('task report not written', { err });
    }
  }
}
