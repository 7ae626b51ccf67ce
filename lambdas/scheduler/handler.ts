import { getDeps } from '../../core/app/deps.js';
import { scheduleBatch } from '../../core/batches/schedule-batch.js';
import { parseBatchRef } from '../../core/chunks/chunk-message.js';
import { queueFunction } from '../shared/queue.js';

export const handler = queueFunction('scheduler', parseBatchRef, (ref, context) =>
  scheduleBatch(getDeps('scheduler'), ref, { remainingMs: () => context.getRemainingTimeInMillis() }),
);
