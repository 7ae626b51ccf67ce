import type { ChildProcess } from 'node:child_process';
import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { Batch } from 'openai/resources/batches';
import type { PoolName } from '../../core/app/declaration.js';
import { createDeps } from '../../core/app/deps.js';
import type { BatchRecord } from '../../core/batches/batch-record.js';
import { createBatch } from '../../core/batches/batches-service.js';
import { chunkMessage } from '../../core/chunks/dispatch.js';
import { createBatchBodySchema } from '../../core/openai/schemas.js';
import type { QueuePort } from '../../core/ports.js';
import type { LocalRuntime } from '../../localstack/runtime/runtime.js';
import { isTerminal } from './check.js';

/**
 * The faults the chaos suite injects while a batch runs. Each scenario names the environment its
 * workers run with (on top of BASE_ENV), its batch size in the short version (`npm test`) and in
 * `npm run chaos`, and what it does to the running system.
 *
 * `shared` scenarios run one after another against one local runtime (the harness gives each
 * its own worker fleet when its environment differs). `restart` kills the runtime itself: it
 * runs `npm start`'s program (localstack/runtime/main.ts) with a data directory, kills it
 * mid-batch, starts it again on the same directory and lets the batch finish there.
 */

/** Every runtime of the suite: small chunks, a slow enough engine to hit batches mid-flight. */
export const BASE_ENV: Record<string, string> = {
  CHUNK_MAX_LINES: '50',
  SIM_ENGINE_LATENCY_MS: '20',
  ENGINE_CONCURRENCY: '4',
  CHUNKS_IN_PARALLEL: '2',
  // A batch validating with no progress for 3 s lost its scheduling message: the SLA monitor
  // sends it again (the lost-scheduling-send scenario).
  VALIDATION_STALL_SECONDS: '3',
};

/** Seconds a received chunk message stays invisible: a killed worker's chunk is back this soon. */
export const VISIBILITY_TIMEOUT_SECONDS = 5;

export interface WorkerView {
  pool: PoolName;
  child: ChildProcess;
  /** How long this process has been up. */
  upMs: number;
}

/** What a fault injector may touch: the shared runtime, its current workers, the API. */
export interface RunContext {
  client: OpenAI;
  tenant: string;
  rt: LocalRuntime;
  /** The scenario's worker processes (replaced as they die, like an ECS service's tasks). */
  workers(): readonly WorkerView[];
  inputFileId: string;
  /** Which run of the scenario this is (0-based). */
  run: number;
  /** The short version (`npm test`) or `npm run chaos`. */
  size: 'short' | 'full';
  /** The faults counted so far in this run. */
  counts: Readonly<Record<string, number>>;
  /** Counts a fault actually injected (the report's "faults injected"). */
  count(fault: string, n?: number): void;
  /** A scenario-specific check that failed, with its evidence. */
  problem(text: string): void;
}

export interface Scenario {
  name: string;
  /** The fault, in words (the report's list). */
  fault: string;
  kind: 'shared' | 'restart';
  /**
   * Its fault touches only its own batch, so the short version may run it at the same time as
   * other such scenarios with the same `env` (kills and restarts touch every batch).
   */
  alongside?: boolean;
  /** Worker settings for this scenario (shared), or the whole runtime's settings (restart), over BASE_ENV. */
  env: Record<string, string>;
  requests: { short: number; full: number };
  /** Creates the batch (default: POST /v1/batches through the SDK); returns its id. */
  create?(ctx: RunContext): Promise<string>;
  /** Injects the fault while the batch runs, until `stop` (the batch ended) or it is done. */
  inject?(ctx: RunContext, batchId: string, stop: AbortSignal): Promise<void>;
  /** Checks after the batch ended and the queues settled. */
  after?(ctx: RunContext, batch: Batch): Promise<void>;
  /** restart: the signal the runtime gets, by run (cycled). */
  restartSignals?: readonly ('SIGKILL' | 'SIGTERM')[];
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((res) => {
    if (signal?.aborted) return res();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      res();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Waits until the batch runs its chunks (or ended, or the run stopped). */
export async function untilInProgress(ctx: RunContext, batchId: string, stop: AbortSignal): Promise<Batch> {
  for (;;) {
    const batch = await ctx.client.batches.retrieve(batchId);
    if (batch.status !== 'validating' || stop.aborted) return batch;
    await sleep(50, stop);
  }
}

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

const chunksDone = (b: Batch): number =>
  (b as unknown as { openbatch?: { chunks?: { done?: number } } }).openbatch?.chunks?.done ?? 0;

/**
 * Kills a worker each time the batch has finished another chunk since the last kill, taking
 * turns over pools: every kill lands mid-batch, most on a worker in the middle of a chunk, and
 * the batch still moves (killing on a clock starves it on a slow machine, where a worker's
 * start-up alone takes seconds). Only a worker up for `minAgeMs`: the fleet restarts one that
 * dies within 5 s of its start with growing backoff, as ECS throttles a failing service.
 */
async function killWorkers(
  ctx: RunContext,
  batchId: string,
  stop: AbortSignal,
  signal: 'SIGKILL' | 'SIGTERM',
  minAgeMs = 5_500,
): Promise<void> {
  await untilInProgress(ctx, batchId, stop);
  // The short version kills once per pool: each SIGKILL costs a visibility timeout.
  const maxKills = ctx.size === 'short' ? 2 : Number.POSITIVE_INFINITY;
  let turn = 0;
  let doneAtLastKill = -1;
  while (!stop.aborted && turn < maxKills) {
    const batch = await ctx.client.batches.retrieve(batchId);
    if (batch.status !== 'in_progress') return;
    if (chunksDone(batch) > doneAtLastKill) {
      // The first kill takes any worker that has booted, so that a short batch gets one.
      const minAge = turn === 0 ? 3_000 : minAgeMs;
      const ready = ctx.workers().filter((w) => alive(w.child) && w.upMs >= minAge);
      const pools = [...new Set(ready.map((w) => w.pool))];
      const victim = ready.find((w) => w.pool === pools[turn % Math.max(1, pools.length)]);
      if (victim) {
        victim.child.kill(signal);
        ctx.count(`${signal} ${victim.pool}`);
        doneAtLastKill = chunksDone(batch);
        turn += 1;
      }
    }
    await sleep(200, stop);
  }
}

/**
 * A second copy of every chunk message (on the dedicated queue, or the spot queue on odd runs),
 * and of the scheduling message: what SQS's at-least-once delivery, a scheduler retried after a
 * partial send, or the SLA monitor's escalation may produce.
 */
async function duplicateDeliveries(
  ctx: RunContext,
  batchId: string,
  stop: AbortSignal,
  to: PoolName,
): Promise<void> {
  const started = await untilInProgress(ctx, batchId, stop);
  if (started.status !== 'in_progress') return;
  // The scheduler's own sending rights: it sends chunks to both pools and the scheduling queue.
  const deps = createDeps('scheduler', ctx.rt.functionEnv('scheduler'), ctx.rt.aws);
  const ref = { tenant: ctx.tenant, batchId };
  const batch = (await deps.batches.get(ref)) as BatchRecord;
  const chunks = await deps.batches.listChunks(ref);
  await deps.queue.sendAll(
    to,
    chunks.map((c) => chunkMessage(batch, c)),
  );
  ctx.count(`chunk copies to ${to}`, chunks.length);
  await deps.queue.send('scheduling', ref);
  ctx.count('scheduling copies');
}

/** A queue port that loses every scheduling message: the crash between the batch write and the send. */
const droppingScheduling = (queue: QueuePort, dropped: () => void): QueuePort => ({
  send: async (name, body) => {
    if (name === 'scheduling') return dropped();
    await queue.send(name, body);
  },
  sendAll: async (name, bodies) => {
    if (name === 'scheduling') return dropped();
    await queue.sendAll(name, bodies);
  },
});

/** Creates the batch through the Batches API's flow, with the scheduling send lost. */
async function createWithoutScheduling(ctx: RunContext): Promise<string> {
  const deps = createDeps('batchesApi', ctx.rt.functionEnv('batchesApi'), ctx.rt.aws);
  const batch = await createBatch(
    { ...deps, queue: droppingScheduling(deps.queue, () => ctx.count('scheduling sends lost')) },
    ctx.tenant,
    createBatchBodySchema.parse({
      input_file_id: ctx.inputFileId,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    }),
  );
  return batch.id;
}

/** Waits out VALIDATION_STALL_SECONDS and runs the SLA monitor until the batch moves on. */
async function redriveStalled(ctx: RunContext, batchId: string, stop: AbortSignal): Promise<void> {
  const stallMs = Number(BASE_ENV.VALIDATION_STALL_SECONDS) * 1000;
  await sleep(stallMs / 2, stop);
  const before = await ctx.client.batches.retrieve(batchId);
  // Nothing else can move it: its scheduling message never left.
  if (before.status !== 'validating')
    ctx.problem(`lost scheduling send: batch ${batchId} was ${before.status} before any re-drive`);
  await sleep(stallMs / 2 + 500, stop);
  for (let i = 0; i < 10 && !stop.aborted; i++) {
    await ctx.rt.runSlaMonitor();
    ctx.count('SLA monitor runs');
    if ((await ctx.client.batches.retrieve(batchId)).status !== 'validating') return;
    await sleep(1_000, stop);
  }
}

/** The input file cannot be deleted while the batch runs: every try mid-batch must answer 409. */
async function deleteInput(ctx: RunContext, batchId: string, stop: AbortSignal): Promise<void> {
  await untilInProgress(ctx, batchId, stop);
  while (!stop.aborted) {
    try {
      await ctx.client.files.delete(ctx.inputFileId);
      const batch = await ctx.client.batches.retrieve(batchId);
      // The finalizer releases the input only after the batch's final status is written.
      if (!isTerminal(batch.status))
        ctx.problem(`input ${ctx.inputFileId} deleted while batch ${batchId} was ${batch.status}`);
      ctx.count('deletes after end');
      return;
    } catch (err) {
      if (err instanceof APIError && err.status === 409) ctx.count('deletes answered 409');
      else ctx.problem(`delete of the input mid-batch: ${(err as Error).message}`);
    }
    await sleep(300, stop);
  }
}

async function inputDeletableAfterEnd(ctx: RunContext, batch: Batch): Promise<void> {
  try {
    const deleted = await ctx.client.files.delete(ctx.inputFileId);
    if (!deleted.deleted) ctx.problem(`input ${ctx.inputFileId} not deleted after the batch ended`);
  } catch (err) {
    // Already deleted by the injector, right as the batch ended: 404 then.
    if (!(err instanceof APIError && err.status === 404))
      ctx.problem(`delete of the input after ${batch.id} ended: ${(err as Error).message}`);
  }
  if (!ctx.counts['deletes answered 409']) ctx.problem('no delete mid-batch was answered 409');
}

function countInterruptions(ctx: RunContext, batch: Batch): Promise<void> {
  const ext = (batch as unknown as { openbatch?: { chunks?: { interruptions?: number } } }).openbatch;
  ctx.count('chunks interrupted', ext?.chunks?.interruptions ?? 0);
  return Promise.resolve();
}

function countFailedLines(ctx: RunContext, batch: Batch): Promise<void> {
  ctx.count('requests failed after retries', batch.request_counts?.failed ?? 0);
  return Promise.resolve();
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'duplicate-deliveries',
    fault:
      'a second copy of every chunk message (dedicated queue; spot on odd runs) and of the scheduling message',
    kind: 'shared',
    alongside: true,
    env: {},
    requests: { short: 150, full: 2_000 },
    inject: (ctx, id, stop) => duplicateDeliveries(ctx, id, stop, ctx.run % 2 ? 'spot' : 'dedicated'),
  },
  {
    name: 'lost-scheduling-send',
    fault:
      'crash between the batch write and the scheduling send (the create flow with a queue port that drops it); the SLA monitor re-drives after VALIDATION_STALL_SECONDS=3',
    kind: 'shared',
    alongside: true,
    env: {},
    requests: { short: 100, full: 2_000 },
    create: createWithoutScheduling,
    inject: redriveStalled,
  },
  {
    name: 'input-deleted',
    fault:
      'DELETE /v1/files/{input} every 300 ms mid-batch (must answer 409), then once after the end (must succeed)',
    kind: 'shared',
    alongside: true,
    env: {},
    requests: { short: 300, full: 2_000 },
    inject: deleteInput,
    after: inputDeletableAfterEnd,
  },
  {
    name: 'sigkill-workers',
    fault:
      'a worker killed with SIGKILL each time another chunk is done, taking turns over pools (a worker once up ≥ 5.5 s)',
    kind: 'shared',
    env: {},
    requests: { short: 200, full: 2_000 },
    inject: (ctx, id, stop) => killWorkers(ctx, id, stop, 'SIGKILL'),
  },
  {
    name: 'sigterm-workers',
    fault: 'a worker stopped with SIGTERM (spot reclaim, drain) each time another chunk is done, same rhythm',
    kind: 'shared',
    env: {},
    requests: { short: 200, full: 2_000 },
    inject: (ctx, id, stop) => killWorkers(ctx, id, stop, 'SIGTERM'),
  },
  {
    name: 'engine-failures',
    fault: 'SIM_ENGINE_FAILURE_RATE=0.5 (HTTP 500s, retried twice: ~1 in 8 requests ends failed)',
    kind: 'shared',
    env: { SIM_ENGINE_FAILURE_RATE: '0.5', ENGINE_MAX_RETRIES: '2', ENGINE_CONCURRENCY: '16' },
    requests: { short: 100, full: 2_000 },
    after: countFailedLines,
  },
  {
    name: 'spot-interruptions',
    fault:
      'SIM_SPOT_INTERRUPTION_RATE=0.7 (a spot chunk reclaimed halfway, checkpointed, finished on dedicated)',
    kind: 'shared',
    env: { SIM_SPOT_INTERRUPTION_RATE: '0.7' },
    requests: { short: 300, full: 2_000 },
    after: countInterruptions,
  },
  {
    name: 'everything-at-once',
    fault:
      'SIGKILLs as in sigkill-workers, copies of every chunk message, input deletes, SIM_ENGINE_FAILURE_RATE=0.2 and SIM_SPOT_INTERRUPTION_RATE=0.5, all on the same batch',
    kind: 'shared',
    env: {
      SIM_ENGINE_FAILURE_RATE: '0.2',
      SIM_SPOT_INTERRUPTION_RATE: '0.5',
      ENGINE_MAX_RETRIES: '2',
      ENGINE_CONCURRENCY: '16',
    },
    requests: { short: 150, full: 2_000 },
    inject: async (ctx, id, stop) => {
      await Promise.all([
        killWorkers(ctx, id, stop, 'SIGKILL'),
        duplicateDeliveries(ctx, id, stop, ctx.run % 2 ? 'spot' : 'dedicated'),
        deleteInput(ctx, id, stop),
      ]);
    },
    after: async (ctx, batch) => {
      await inputDeletableAfterEnd(ctx, batch);
      await countInterruptions(ctx, batch);
      await countFailedLines(ctx, batch);
    },
  },
  {
    name: 'runtime-restart',
    fault:
      'the runtime itself (npm start’s main.ts, data directory on) killed mid-batch (SIGKILL; SIGTERM on even runs) and started again on the same data',
    kind: 'restart',
    env: {},
    requests: { short: 200, full: 2_000 },
    restartSignals: ['SIGKILL', 'SIGTERM'],
  },
];
