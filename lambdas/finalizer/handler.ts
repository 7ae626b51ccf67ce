import { getDeps } from '../../core/app/deps.js';
import { finalizeBatch } from '../../core/batches/finalize-batch.js';
import { parseBatchRef } from '../../core/chunks/chunk-message.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { measuredDeps } from '../shared/measured-deps.js';
import { queueFunction } from '../shared/queue.js';

export const handler = queueFunction('finalizer', parseBatchRef, async (ref) => {
  const { deps, counts } = measuredDeps(getDeps('finalizer'));
  const started = performance.now();
  const outcome = await finalizeBatch(deps, ref);
  // A finalizer that found nothing to do (not ready, already final) measures no finalization.
  if (outcome === 'finalized')
    await emitMetrics(
      { Function: 'finalizer' },
      {
        FinalizeDuration: { value: performance.now() - started, unit: 'Milliseconds' },
        BytesWritten: { value: counts.bytesWritten, unit: 'Bytes' },
      },
    );
  return outcome;
});
