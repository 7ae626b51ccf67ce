import { getDeps } from '../../core/app/deps.js';
import { scheduleBatch } from '../../core/batches/schedule-batch.js';
import { parseBatchRef } from '../../core/chunks/chunk-message.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { measuredDeps } from '../shared/measured-deps.js';
import { queueFunction } from '../shared/queue.js';

export const handler = queueFunction('scheduler', parseBatchRef, async (ref, context) => {
  const { deps, counts } = measuredDeps(getDeps('scheduler'));
  const outcome = await scheduleBatch(deps, ref, { remainingMs: () => context.getRemainingTimeInMillis() });
  // Lines read and validated by this run (a segment of a large file), chunks sent to a pool queue.
  await emitMetrics(
    { Function: 'scheduler' },
    { LinesValidated: counts.linesRead, ChunksPlanned: counts.chunksSent },
  );
  for (const [code, n] of counts.failureCodes)
    await emitMetrics({ Function: 'scheduler', Code: code }, { ValidationFailures: n });
  return outcome;
});
