import { getDeps } from '../../core/app/deps.js';
import { finalizeBatch } from '../../core/batches/finalize-batch.js';
import { parseBatchRef } from '../../core/chunks/chunk-message.js';
import { queueFunction } from '../shared/queue.js';

export const handler = queueFunction('finalizer', parseBatchRef, (ref) =>
  finalizeBatch(getDeps('finalizer'), ref),
);
