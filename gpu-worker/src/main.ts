import { ChangeMessageVisibilityCommand, type Message } from '@aws-sdk/client-sqs';
import { createAwsClients } from '../../core/adapters/aws-clients.js';
import { createDeps } from '../../core/app/deps.js';
import { parseChunkMessage } from '../../core/chunks/chunk-message.js';
import { awsSchema, readConfig, workerSchema } from '../../core/config.js';
import { log } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { reportPeriodically } from './call-report.js';
import type { Engine } from './engine/engine.js';
import { HttpEngine } from './engine/http-engine.js';
import { SimulatedEngine } from './engine/simulated-engine.js';
import { EngineBudget } from './engine-budget.js';
import { ReceiveLoop } from './receive-loop.js';
import { handOffFor, spotNotice } from './reclaim.js';
import { runChunk } from './run-chunk.js';
import { EcsTaskProtection } from './task-protection.js';
import { protectionFor } from './task-protection-setup.js';

const settings = readConfig(workerSchema);
const aws = readConfig(awsSchema);
const clients = createAwsClients(aws);
const deps = createDeps('worker', process.env, clients);
const protection = await protectionFor(process.env, aws.AWS_REGION);
const engine: Engine = settings.ENGINE_URL
  ? new HttpEngine(settings.ENGINE_URL, {
      apiKey: settings.ENGINE_API_KEY,
      timeoutMs: settings.ENGINE_TIMEOUT_MS,
      connections: settings.ENGINE_CONCURRENCY,
    })
  : new SimulatedEngine({
      latencyMs: settings.SIM_ENGINE_LATENCY_MS,
      failureRate: settings.SIM_ENGINE_FAILURE_RATE,
      seed: String(process.pid),
    });
// One budget at the engine for the whole worker, shared by every chunk it holds.
const budget = new EngineBudget(settings.ENGINE_CONCURRENCY);
const stop = new AbortController();
const flushReport = reportPeriodically(process.env.OPENBATCH_REPORT_DIR, `worker-${settings.POOL}`);

// Asked once per stop: a SIGTERM on a spot task is a reclaim unless the instance says otherwise.
let handOff: ReturnType<typeof decideHandOff> | undefined;
const decideHandOff = async () =>
  handOffFor(settings.POOL, settings.POOL === 'spot' ? await spotNotice(process.env) : 'no-notice');

/** Makes a released chunk visible again at once, for another task of this pool. */
const releaseMessage = (message: Message) =>
  clients.sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: settings.QUEUE_URL,
      ReceiptHandle: message.ReceiptHandle,
      VisibilityTimeout: 0,
    }),
  );

async function handle(message: Message): Promise<boolean> {
  const started = Date.now();
  await protection.hold();
  try {
    const msg = parseChunkMessage(message.Body ?? '');
    const lines = msg.lineEnd - msg.lineStart + 1;
    const interrupt = settings.POOL === 'spot' && Math.random() < settings.SIM_SPOT_INTERRUPTION_RATE;
    const result = await runChunk(deps, msg, {
      pool: settings.POOL,
      engine,
      budget,
      maxRetries: settings.ENGINE_MAX_RETRIES,
      stop: stop.signal,
      handOffTo: () => {
        handOff ??= decideHandOff();
        return handOff;
      },
      ...(interrupt ? { simulateInterruptionAfter: Math.max(1, Math.floor(lines / 2)) } : {}),
    });
    log.info('chunk handled', {
      batchId: msg.batchId,
      chunk: msg.chunk,
      attempt: msg.attempt,
      pool: settings.POOL,
      ...result,
      ms: Date.now() - started,
    });
    await emitMetrics(
      { Pool: settings.POOL },
      {
        ChunksCompleted: result.outcome === 'completed' ? 1 : 0,
        ChunksHandedOff: result.outcome === 'handed-off' ? 1 : 0,
        ChunksReleased: result.outcome === 'released' ? 1 : 0,
        ChunksDuplicate: result.outcome === 'duplicate' ? 1 : 0,
        RequestsRun: result.ran,
        RequestsFailed: result.failed,
        ChunkDuration: { value: Date.now() - started, unit: 'Milliseconds' },
      },
    );
    if (result.outcome === 'released') {
      await releaseMessage(message);
      return false;
    }
    return true;
  } catch (err) {
    // Left on the queue: SQS redelivers it, and after maxReceiveCount it goes to the DLQ.
    log.error('chunk failed', { err, messageId: message.MessageId, pool: settings.POOL });
    return false;
  } finally {
    await protection.release();
  }
}

const queue = new ReceiveLoop({
  sqs: clients.sqs,
  queueUrl: settings.QUEUE_URL,
  maxInFlight: settings.CHUNKS_IN_PARALLEL,
  waitTimeSeconds: settings.RECEIVE_WAIT_SECONDS,
  visibilityTimeoutSeconds: settings.VISIBILITY_TIMEOUT_SECONDS,
  heartbeatSeconds: Math.max(1, Math.floor(settings.VISIBILITY_TIMEOUT_SECONDS / 3)),
  handle,
  onError: (err, during) => log.error('queue error', { err, during, pool: settings.POOL }),
});

// A spot reclaim or an instance drain (ECS sends SIGTERM, then SIGKILL after the stop timeout):
// stop receiving, let in-flight chunks checkpoint and hand off, then exit.
const shutdown = (signal: string) => {
  if (stop.signal.aborted) return;
  log.info('worker stopping', { signal, pool: settings.POOL, protected: protection.held });
  stop.abort(signal);
  void queue.stop().then(async () => {
    await engine.close?.();
    flushReport();
    log.info('worker stopped', { pool: settings.POOL });
    process.exit(0);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

log.info('worker started', {
  pool: settings.POOL,
  engine: engine.name,
  queue: settings.QUEUE_URL,
  budget: budget.size,
  chunksInParallel: settings.CHUNKS_IN_PARALLEL,
  scaleInProtection: protection instanceof EcsTaskProtection ? 'on' : 'off (not on ECS)',
});
queue.start();
