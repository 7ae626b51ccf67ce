import { deadlinePressure, startupOfMax } from './pressure.js';
import { taskRate } from './throughput.js';
import type { PolicyBatch, PolicyInput } from './types.js';

export type Admission =
  | { readonly accepted: true; readonly warning?: string }
  | { readonly accepted: false; readonly reason: string };

/**
 * Admission at create: a batch is accepted when the largest dedicated capacity of its model
 * (every task the pool may run, at the dedicated rate, after start-up) could still finish it and
 * every running batch with an earlier deadline inside their windows, even if Spot gave nothing.
 * Otherwise it is refused with the reason, or, with `settings.admission` 'warn', accepted with
 * that reason as a warning. A deployment with no dedicated capacity at all accepts every batch
 * with a warning: nothing can be guaranteed, and refusing everything would leave it useless.
 */
export function admit(candidate: PolicyBatch, input: PolicyInput): Admission {
  const { settings } = input;
  const maxTasks = input.capacity.dedicated.max;
  const rate = taskRate('dedicated', input.model, input.measured, settings).requestsPerSecondPerTask;
  const capacityRps = maxTasks * rate;
  const startupS = startupOfMax(input.capacity.dedicated, settings.taskStartupSeconds);
  const windowS = (candidate.deadlineMs - input.nowMs) / 1000;
  const pressureOf = (batches: readonly PolicyBatch[]) =>
    deadlinePressure(batches, {
      nowMs: input.nowMs,
      capacityRequestsPerSecond: capacityRps,
      startupSeconds: startupS,
      taskRequestsPerSecond: rate,
      chunkRequests: settings.chunkRequests,
    });
  const worstOf = (pressures: ReadonlyMap<string, number>) =>
    Math.max(0, ...[...pressures.values()].filter(Number.isFinite));
  if (candidate.remainingRequests <= 0) return { accepted: true };
  let reason: string | undefined;
  const alone = pressureOf([candidate]).get(candidate.id) ?? Number.POSITIVE_INFINITY;
  if (maxTasks <= 0) {
    // A Spot-only deployment can guarantee nothing, but refusing every batch would make it
    // useless: the batch runs on Spot, and says so.
    return {
      accepted: true,
      warning: `The deployment has no dedicated capacity for model ${input.model}: the batch runs on Spot only, and no completion window can be guaranteed.`,
    };
  }
  if (windowS <= 0) {
    reason = 'The completion window has already ended.';
  } else if (alone > 1) {
    const needS = alone * windowS;
    reason =
      `${candidate.remainingRequests} requests need about ${formatDuration(needS)} on all ${maxTasks} dedicated ` +
      `task(s) for model ${input.model} (${round(rate)} requests/s each, after ${startupS} s start-up), ` +
      `more than the ${formatDuration(windowS)} left in the completion window.`;
  } else {
    const others = input.batches.filter((b) => b.id !== candidate.id);
    const together = pressureOf([...others, candidate]);
    // Refuse only for the newcomer's share: batches already over their capacity do not block it.
    if (
      (together.get(candidate.id) ?? 0) > 1 ||
      worstOf(together) > Math.max(1, worstOf(pressureOf(others)))
    ) {
      reason =
        `The dedicated capacity for model ${input.model} (${maxTasks} task(s)) is committed to batches ` +
        `with earlier deadlines; ${candidate.remainingRequests} more requests would not finish in the window.`;
    }
  }
  if (reason === undefined) return { accepted: true };
  return settings.admission === 'warn' ? { accepted: true, warning: reason } : { accepted: false, reason };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** "3h 20m", "12m", "45s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'forever';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
}
