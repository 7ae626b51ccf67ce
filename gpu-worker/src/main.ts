import { ChangeMessageVisibilityCommand, type Message } from '@aws-sdk/client-sqs';
import { createAwsClients } from '../../core/adapters/aws-clients.js';
import { createDeps } from '../../core/app/deps.js';
import { parseChunkMessage } from '../../core/chunks/chunk-message.js';
import { awsSchema, readConfig, workerSchema } from '../../core/config.js';
import { appendLogContext, log, withLogContext } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { startTracing, stopTracing } from '../../core/observability/tracing.js';
import { reportPeriodically } from './call-report.js';
import { inChunkSpan } from './chunk-span.js';
import { HttpEngine } from './engine/http-engine.js';
import { SimulatedEngine } from './engine/simulated-engine.js';
import { EngineBudget } from './engine-budget.js';
import { EngineProbe, engineRoot } from './engine-probe.js';
import { MeasuredEngine } from './measured-engine.js';
import { ReceiveLoop } from './receive-loop.js';
import { handOffFor, spotNotice } from './reclaim.js';
import { type ChunkRunResult, runChunk } from './run-chunk.js';
import { StartTurns } from './start-turns.js';
import { EcsTaskProtection } from './task-protection.js';
import { protectionFor } from './task-protection-setup.js';
import { TaskReporter } from './task-reporter.js';
import { WorkerMeter } from './worker-meter.js';

const settings = readConfig(workerSchema);
// Every line this process logs names the worker's service and pool.
appendLogContext({ function: `worker-${settings.POOL}`, pool: settings.POOL });
// Traces to the task's collector when OPENBATCH_TRACING=xray (the CDK app sets it); off locally.
startTracing(`worker-${settings.POOL}`);
const aws = readConfig(awsSchema);
const clients = createAwsClients(aws);
const deps = createDeps('worker', process.env, clients);
const protection = await protectionFor(process.env, aws.AWS_REGION);
// Every engine call is measured (latency, tokens, errors, retries) on its way through.
const engine = new MeasuredEngine(
  settings.ENGINE_URL
    ? new HttpEngine(settings.ENGINE_URL, {
        apiKey: settings.ENGINE_API_KEY,
        timeoutMs: settings.ENGINE_TIMEOUT_MS,
        connections: settings.ENGINE_CONCURRENCY,
      })
    : new SimulatedEngine({
        latencyMs: settings.SIM_ENGINE_LATENCY_MS,
        failureRate: settings.SIM_ENGINE_FAILURE_RATE,
        seed: String(process.pid),
      }),
);
const meter = new WorkerMeter(engine);
// One budget at the engine for the whole worker, shared by every chunk it holds.
const budget = new EngineBudget(settings.ENGINE_CONCURRENCY);
const startTurns = new StartTurns();
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

/**
 * One EMF flush (two with engine errors, one per error code): the chunk that just ended, if
 * one did, and everything the worker measured since the last flush.
 */
async function flushMetrics(chunk?: { result: ChunkRunResult; ms: number }): Promise<void> {
  const f = meter.take();
  const outcome = chunk?.result.outcome;
  const ifChunk = (n: number) => ({ value: chunk ? [n] : [] });
  await emitMetrics(
    { Pool: settings.POOL },
    {
      ChunksCompleted: ifChunk(outcome === 'completed' ? 1 : 0),
      ChunksHandedOff: ifChunk(outcome === 'handed-off' ? 1 : 0),
      ChunksReleased: ifChunk(outcome === 'released' ? 1 : 0),
      ChunksDuplicate: ifChunk(outcome === 'duplicate' ? 1 : 0),
      RequestsRun: ifChunk(chunk?.result.ran ?? 0),
      RequestsFailed: ifChunk(chunk?.result.failed ?? 0),
      ChunkDuration: { value: chunk ? [chunk.ms] : [], unit: 'Milliseconds' },
      EngineLatency: { value: f.engine.latenciesMs, unit: 'Milliseconds' },
      TokensGenerated: f.engine.tokens,
      EngineRetries: f.engine.retries,
      Interruptions: f.interruptions,
      LeaseRenewals: f.leaseRenewals,
      EngineUnhealthy: { value: f.unhealthyProbes === undefined ? [] : [f.unhealthyProbes] },
      EngineKvCacheUsage: { value: f.kvCacheUsagePercent, unit: 'Percent', gauge: true },
      EngineRequestsRunning: { value: f.requestsRunning, gauge: true },
      EngineRequestsWaiting: { value: f.requestsWaiting, gauge: true },
    },
  );
  for (const [code, n] of f.engine.errors)
    await emitMetrics({ Pool: settings.POOL, Code: code }, { WorkerErrors: n });
}

async function handle(message: Message): Promise<boolean> {
  let msg: ReturnType<typeof parseChunkMessage>;
  try {
    msg = parseChunkMessage(message.Body ?? '');
  } catch (err) {
    // Left on the queue: SQS redelivers it, and after maxReceiveCount it goes to the DLQ.
    log.error('chunk message unreadable', { err, messageId: message.MessageId });
    return false;
  }
  const fields = {
    messageId: message.MessageId,
    tenant: msg.tenant,
    batchId: msg.batchId,
    chunk: msg.chunk,
    attempt: msg.attempt,
  };
  return withLogContext(fields, () => inChunkSpan(message, msg, () => handleChunk(message, msg)));
}

async function handleChunk(message: Message, msg: ReturnType<typeof parseChunkMessage>): Promise<boolean> {
  const started = Date.now();
  await protection.hold();
  try {
    const lines = msg.lineEnd - msg.lineStart + 1;
    const interrupt = settings.POOL === 'spot' && Math.random() < settings.SIM_SPOT_INTERRUPTION_RATE;
    const result = await runChunk(deps, msg, {
      pool: settings.POOL,
      engine,
      budget,
      startTurns,
      maxRetries: settings.ENGINE_MAX_RETRIES,
      stop: stop.signal,
      handOffTo: () => {
        handOff ??= decideHandOff();
        return handOff;
      },
      ...(interrupt ? { simulateInterruptionAfter: Math.max(1, Math.floor(lines / 2)) } : {}),
    });
    const ms = Date.now() - started;
    log.info('chunk handled', { ...result, ms });
    // A simulated interruption stands for a spot reclaim the worker survived.
    if (interrupt && result.outcome === 'handed-off') meter.interrupted();
    await flushMetrics({ result, ms });
    if (result.outcome === 'released') {
      await releaseMessage(message);
      return false;
    }
    return true;
  } catch (err) {
    // Left on the queue: SQS redelivers it, and after maxReceiveCount it goes to the DLQ.
    log.error('chunk failed', { err });
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
  onError: (err, during) => log.error('queue error', { err, during }),
  onExtend: (messages) => meter.renewed(messages),
});

// Engine figures go out every METRICS_INTERVAL_SECONDS even while no chunk ends; the engine's
// health and Prometheus endpoints (vLLM's GPU figures) are read four times as often.
const probe = settings.ENGINE_URL
  ? new EngineProbe(engineRoot(settings.ENGINE_URL), { apiKey: settings.ENGINE_API_KEY })
  : undefined;
// This task's report to the pools table, for the SLA monitor's measured throughput: now (the
// task runs) and every METRICS_INTERVAL_SECONDS.
const reporter = new TaskReporter(deps.pools, { group: settings.POOL_GROUP, pool: settings.POOL }, () =>
  budget.takeActivity(),
);
void reporter.report();
const timers = [
  setInterval(() => void flushMetrics(), settings.METRICS_INTERVAL_SECONDS * 1000),
  setInterval(() => void reporter.report(), settings.METRICS_INTERVAL_SECONDS * 1000),
  ...(probe
    ? [
        setInterval(
          () => void probe.probe().then((r) => meter.probed(r)),
          Math.max(1000, (settings.METRICS_INTERVAL_SECONDS * 1000) / 4),
        ),
      ]
    : []),
];
for (const t of timers) t.unref();

// A spot reclaim or an instance drain (ECS sends SIGTERM, then SIGKILL after the stop timeout):
// stop receiving, let in-flight chunks checkpoint and hand off, then exit.
const shutdown = (signal: string) => {
  if (stop.signal.aborted) return;
  log.info('worker stopping', { signal, protected: protection.held });
  meter.interrupted();
  stop.abort(signal);
  void queue.stop().then(async () => {
    for (const t of timers) clearInterval(t);
    await engine.close();
    await flushMetrics();
    await stopTracing();
    flushReport();
    log.info('worker stopped');
    process.exit(0);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

log.info('worker started', {
  engine: engine.name,
  queue: settings.QUEUE_URL,
  budget: budget.size,
  chunksInParallel: settings.CHUNKS_IN_PARALLEL,
  scaleInProtection: protection instanceof EcsTaskProtection ? 'on' : 'off (not on ECS)',
});
queue.start();
