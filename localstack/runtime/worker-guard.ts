/**
 * Preloaded (`node --import`) into each local gpu-worker process by the worker fleet: checks
 * the worker's AWS calls against its task role's grants (the declaration's `workerUses` and
 * its own pool queue), as IAM does on ECS. Local runtime only; the worker's code knows nothing of it.
 */
import { workerUses } from '../../core/app/declaration.js';
import { guardThisProcess, permissionsOf } from './access-guard.js';

guardThisProcess(
  `worker (${process.env.POOL ?? 'unknown pool'})`,
  permissionsOf(workerUses, process.env, process.env.QUEUE_URL),
);
