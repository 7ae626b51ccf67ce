import type { ProbeResult } from './engine-probe.js';
import type { EngineFigures, MeasuredEngine } from './measured-engine.js';

/** Everything a worker measured since its last metrics flush, taken at once. */
export interface WorkerFigures {
  engine: EngineFigures;
  interruptions: number;
  leaseRenewals: number;
  /** Failed health probes; undefined when no probe ran (no engine URL, or none since). */
  unhealthyProbes?: number;
  kvCacheUsagePercent: number[];
  requestsRunning: number[];
  requestsWaiting: number[];
}

/**
 * The worker's figures between two flushes: the engine's (from the measured engine), the
 * interruptions and drains it received, the chunk leases it renewed, and what the engine's
 * health and Prometheus endpoints said. `take()` hands them over once and starts afresh, so a
 * figure goes out in exactly one flush however flushes interleave.
 */
export class WorkerMeter {
  private interruptions = 0;
  private leaseRenewals = 0;
  private probes = 0;
  private unhealthy = 0;
  private gauges = { kv: [] as number[], running: [] as number[], waiting: [] as number[] };

  constructor(private readonly engine: MeasuredEngine) {}

  interrupted(): void {
    this.interruptions += 1;
  }

  renewed(messages: number): void {
    this.leaseRenewals += messages;
  }

  probed(result: ProbeResult): void {
    this.probes += 1;
    if (!result.healthy) this.unhealthy += 1;
    const g = result.gauges;
    if (g?.kvCacheUsagePercent !== undefined) this.gauges.kv.push(g.kvCacheUsagePercent);
    if (g?.requestsRunning !== undefined) this.gauges.running.push(g.requestsRunning);
    if (g?.requestsWaiting !== undefined) this.gauges.waiting.push(g.requestsWaiting);
  }

  take(): WorkerFigures {
    const figures: WorkerFigures = {
      engine: this.engine.take(),
      interruptions: this.interruptions,
      leaseRenewals: this.leaseRenewals,
      ...(this.probes > 0 ? { unhealthyProbes: this.unhealthy } : {}),
      kvCacheUsagePercent: this.gauges.kv,
      requestsRunning: this.gauges.running,
      requestsWaiting: this.gauges.waiting,
    };
    this.interruptions = 0;
    this.leaseRenewals = 0;
    this.probes = 0;
    this.unhealthy = 0;
    this.gauges = { kv: [], running: [], waiting: [] };
    return figures;
  }
}
