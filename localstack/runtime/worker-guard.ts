/**
 * Preloaded (`node --import`) into each local gpu-worker process by the worker fleet. Local
 * runtime only; the worker's code knows nothing of it.
 *
 * - IAM's part: checks the worker's AWS calls against its task role's grants (the declaration's
 *   `workerUses` and its own pool queue), as IAM does on ECS.
 * - ECS's part when the runtime goes away: the fleet gives each worker an IPC channel, which
 *   closes when the runtime exits, even killed outright (SIGKILL). The worker is then stopped
 *   as ECS stops a task, with SIGTERM: it stops receiving, checkpoints and hands off its
 *   in-flight chunks, and exits, instead of running on as an orphan. The emulators stay up
 *   until it has (it holds their lifelines, see emulator.ts).
 */
import { workerUses } from '../../core/app/declaration.js';
import { guardThisProcess, permissionsOf } from './access-guard.js';

guardThisProcess(
  `worker (${process.env.POOL ?? 'unknown pool'})`,
  permissionsOf(workerUses, process.env, process.env.QUEUE_URL),
);

// Spawned with an IPC channel (process.send exists) that is already closed: the runtime went
// away while this worker was still loading, before anything here could watch the channel.
if (process.send && !process.connected) process.exit(0);
if (process.channel) {
  process.once('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    // As WorkerFleet.stop (and ECS after its stop timeout): a worker that does not wind down is killed.
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 15_000).unref();
  });
  // The channel is only watched: it must not keep the worker alive by itself.
  process.channel.unref();
}
