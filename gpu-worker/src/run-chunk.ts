import { setMaxListeners } from 'node:events';
import pRetry, { AbortError } from 'p-retry';
import { keys } from '../../core/adapters/blob-store.js';
import type { Deps } from '../../core/app/deps.js';
import type { ChunkMessage } from '../../core/chunks/chunk-message.js';
import { allChunksDone } from '../../core/chunks/chunk-record.js';
import { nextInChain } from '../../core/chunks/dispatch.js';
import { toUnixSeconds } from '../../core/clock.js';
import { ChunkDedup } from '../../core/dedup/chunk-dedup.js';
import { isBlank, splitLines } from '../../core/lines/split-lines.js';
import type { ResultLine } from '../../core/openai/schemas.js';
import { errorLine, isSuccess, responseLine } from '../../core/results/result-lines.js';
import { addUsage, noUsage, usageOfBody } from '../../core/results/usage.js';
import type { Pool } from '../../core/sla/policy.js';
import { type Engine, type EngineResponse, isRetryableStatus } from './engine/engine.js';
import { EngineBudget } from './engine-budget.js';
import type { HandOff } from './reclaim.js';
import type { StartTurns } from './start-turns.js';

type ChunkDeps = Pick<Deps, 'batches' | 'blobs' | 'queue' | 'ids' | 'dedup' | 'clock' | 'limits'>;

export interface ChunkRunOptions {
  pool: Pool;
  engine: Engine;
  /**
   * The worker's budget at the engine, shared by every chunk it holds. Without one, the chunk
   * gets a budget of its own of `concurrency` requests.
   */
  budget?: EngineBudget;
  /** The worker's start order: its chunks of one batch start one at a time, lowest first. */
  startTurns?: StartTurns;
  concurrency?: number;
  maxRetries: number;
  /** Aborted on SIGTERM (spot interruption) or shutdown: finish nothing new, checkpoint, hand off. */
  stop: AbortSignal;
  /**
   * Where the rest goes when `stop` aborts the chunk (a SIGTERM): to dedicated after a spot
   * reclaim, back to the task's own pool after a drain. Default: dedicated.
   */
  handOffTo?: () => Promise<HandOff>;
  /** How often a running chunk checkpoints its finished lines (default 15 s). */
  checkpointEveryMs?: number;
  /** How often a running chunk shows its finished lines in the batch's request_counts (default 3 s). */
  progressEveryMs?: number;
  /** SIMULATED spot interruption for tests and local runs: interrupt after this many finished lines. */
  simulateInterruptionAfter?: number;
  retryMinTimeoutMs?: number;
}

/**
 * `handed-off`: checkpointed and sent to the dedicated queue. `released`: checkpointed, and the
 * caller makes the message visible again on its own queue for another task of the same pool.
 */
export type ChunkOutcomeKind = 'completed' | 'duplicate' | 'skipped' | 'handed-off' | 'released';

export interface ChunkRunResult {
  outcome: ChunkOutcomeKind;
  /** Requests run by this attempt (checkpointed ones excluded). */
  ran: number;
  completed: number;
  failed: number;
  finalizeRequested: boolean;
}

interface Finished {
  line: number;
  result: ResultLine;
  /** Answered by reuse (deduplication), not run. */
  reused?: true;
}

class RetryableResponse extends Error {
  constructor(readonly response: EngineResponse) {
    super(`engine answered ${response.status}`);
  }
}

/**
 * Runs one chunk: reads its lines with a ranged GET, sends each request to the engine with
 * bounded concurrency and retries, writes the chunk's output and error parts, and completes the
 * chunk exactly once. Interrupted, it checkpoints the finished lines and hands the rest to the
 * dedicated queue (a reclaim) or back to its own pool (a drain); the next attempt skips what was
 * checkpointed.
 */
export async function runChunk(
  deps: ChunkDeps,
  msg: ChunkMessage,
  opts: ChunkRunOptions,
): Promise<ChunkRunResult> {
  const ref = { tenant: msg.tenant, batchId: msg.batchId };
  const none = { ran: 0, completed: 0, failed: 0, finalizeRequested: false };
  const group = `${msg.tenant}/${msg.batchId}`;
  // This batch's chunks held by the worker start one at a time, the lowest first (start-turns.ts).
  const turn = await opts.startTurns?.take(group, msg.chunk);
  // The chunk's lines are asked for while its record is read: one round trip fewer before the
  // first request. A chunk that turns out not to run closes the response unread.
  const opening = deps.blobs.stream(msg.key, { start: msg.byteStart, end: msg.byteEnd });
  opening.catch(() => {}); // awaited below; a failure surfaces there
  const unread = () =>
    void opening.then(
      (s) => (s as { destroy?: () => void }).destroy?.(),
      () => {},
    );
  const reading = deps.batches.getBatchAndChunk(ref, msg.chunk);
  ChunkDedup.warm(deps, msg.tenant);
  if (turn) void Promise.allSettled([opening, reading]).then(turn);
  const { batch, chunk } = await reading;
  const skip =
    batch?.status !== 'in_progress' || !chunk
      ? 'skipped'
      : chunk.status === 'done'
        ? 'duplicate'
        : // An escalated chunk has a copy on the dedicated queue; spot leaves it to that copy.
          opts.pool === 'spot' && chunk.escalated
          ? 'skipped'
          : undefined;
  if (skip || !batch || !chunk) {
    unread();
    return { outcome: skip ?? 'skipped', ...none };
  }

  const finished = new Map<number, ResultLine>();
  // Exact deduplication (docs/dedup.md): earlier answers to identical requests of the tenant.
  const dedup = ChunkDedup.open(deps, { ...ref, chunk: msg.chunk }, batch.dedup);
  if (chunk.checkpoint_key) {
    for (const f of await readCheckpoint(deps, chunk.checkpoint_key)) {
      finished.set(f.line, f.result);
      dedup?.resumed(f.line, f.reused === true);
    }
  }
  const isReused = (line: number) => dedup?.isReused(line) ?? false;

  const interrupt = new AbortController();
  const signal = AbortSignal.any([opts.stop, interrupt.signal]);
  // Every request in flight listens to the chunk's signal (its engine call aborts on a stop).
  setMaxListeners(0, signal);
  const budget = opts.budget ?? new EngineBudget(opts.concurrency ?? 32);
  // Batches share the budget in turn; within a batch, the lowest chunk number goes first, not
  // the chunk received first: SQS does not keep order, and the planner cuts a batch's last
  // chunks small so that they, run last, end together. A large chunk received after them
  // would otherwise run alone at the end with the engine half idle.
  const lane = msg.chunk;
  const order: number[] = [];
  const tasks: Promise<void>[] = [];
  let ran = 0;
  const source = await opening;
  const progress = checkpointPeriodically(
    deps,
    msg,
    finished,
    order,
    isReused,
    opts.checkpointEveryMs ?? 15_000,
  );
  const live = reportProgressPeriodically(deps, msg, finished, opts.progressEveryMs ?? 3_000);
  try {
    for await (const item of splitLines(source, {
      startOffset: msg.byteStart,
      firstLineNumber: msg.lineStart,
    })) {
      if ('tooLong' in item || isBlank(item.bytes)) continue; // the scheduler rejected too-long lines already
      order.push(item.number);
      if (finished.has(item.number)) {
        dedup?.remember(item.number, item.bytes);
        continue;
      }
      const request = JSON.parse(item.bytes.toString('utf8')) as {
        custom_id: string;
        url: string;
        body: Record<string, unknown>;
      };
      const run = () =>
        budget.run(
          group,
          lane,
          async () => {
            if (signal.aborted) return;
            const result = await runRequest(deps, opts, request, signal);
            if (!result) return;
            finished.set(item.number, result);
            ran += 1;
            if (opts.simulateInterruptionAfter !== undefined && ran >= opts.simulateInterruptionAfter)
              interrupt.abort('simulated');
          },
          { tenant: msg.tenant, priority: batch.priority },
        );
      // A request answered before is not run: its earlier answer is this line's result.
      const reuse = dedup?.reuse(item.number, request);
      tasks.push(reuse ? reuse.then((r) => (r ? void finished.set(item.number, r) : run())) : run());
    }
    await dedup?.fetch();
    await Promise.all(tasks);
  } finally {
    await Promise.all([progress.stop(), live.stop()]);
  }

  if (finished.size < order.length) {
    // A simulated interruption stands for a spot reclaim; a real stop asks where to go.
    const to = interrupt.signal.aborted ? 'dedicated' : await (opts.handOffTo?.() ?? 'dedicated');
    await handOff(deps, msg, finished, order, isReused, to);
    return {
      outcome: to === 'dedicated' ? 'handed-off' : 'released',
      ran,
      completed: 0,
      failed: 0,
      finalizeRequested: false,
    };
  }

  const output: string[] = [];
  const errors: string[] = [];
  // The chunk's tokens, over every line it writes (checkpointed ones too): added to the batch
  // once, by the completion below, whichever attempt wins.
  const usage = noUsage();
  for (const n of order) {
    const result = finished.get(n) as ResultLine;
    (isSuccess(result) ? output : errors).push(`${JSON.stringify(result)}\n`);
    if (result.response) addUsage(usage, usageOfBody(result.response.body));
  }
  const attempt = `a${msg.attempt}-${deps.ids.requestId().slice(4, 16)}`;
  const outputKey = keys.part(msg.tenant, msg.batchId, msg.chunk, attempt, 'output');
  const errorKey =
    errors.length > 0 ? keys.part(msg.tenant, msg.batchId, msg.chunk, attempt, 'error') : undefined;
  const outputBody = output.join('');
  const errorBody = errors.join('');
  await Promise.all([
    deps.blobs.put(outputKey, outputBody),
    errorKey ? deps.blobs.put(errorKey, errorBody) : undefined,
  ]);

  const won = await deps.batches.completeChunk(ref, msg.chunk, {
    completed: output.length,
    failed: errors.length,
    outputKey,
    errorKey,
    pool: opts.pool,
    // The part sizes locate the chunk's lines in the final files (the per-request view).
    outputBytes: Buffer.byteLength(outputBody),
    errorBytes: Buffer.byteLength(errorBody),
    usage,
    reused: dedup?.reusedLines(order, msg.lineStart),
    at: toUnixSeconds(deps.clock.now()),
  });
  if (!won) return { outcome: 'duplicate', ran, completed: 0, failed: 0, finalizeRequested: false };
  // The batch's next chunk takes this one's place on the queue (core/chunks/dispatch.ts), on the
  // pool the batch is routed to; this worker's queues are its own pool group's, the batch's.
  const next = nextInChain(msg);
  if (next) await deps.queue.send(batch.route_pool ?? 'spot', next);
  // Indexed before the batch can end: a batch created after this one completed finds its answers.
  await dedup?.record(finished);

  // A batch of one chunk is done with it: its only chunk record is the one this worker just
  // moved to done. Otherwise the batch's counter, then the records, decide.
  const allDone = batch.chunk_count === 1 || (await batchDone(deps, ref));
  if (allDone) await deps.queue.send('finalizing', ref);
  return {
    outcome: 'completed',
    ran,
    completed: output.length,
    failed: errors.length,
    finalizeRequested: allDone,
  };
}

/**
 * Whether every chunk of the batch is done, after this worker completed one. The batch's
 * `chunks_done` counter, read consistently after the completion transaction, is the fast path:
 * while it is short of `chunk_count` the batch is still running and no chunk record is read.
 * When it says done, the chunk records (the source of truth) decide. The completion that comes
 * last sees every increment before its own, so some worker always reads the records; a counter
 * that lost an update leaves the batch to the SLA monitor, which reconciles from the records.
 */
async function batchDone(deps: ChunkDeps, ref: { tenant: string; batchId: string }): Promise<boolean> {
  const batch = await deps.batches.get(ref);
  if (!batch || batch.chunk_count === undefined || (batch.chunks_done ?? 0) < batch.chunk_count) return false;
  return allChunksDone(batch, await deps.batches.listChunks(ref));
}

async function runRequest(
  deps: Pick<Deps, 'ids'>,
  opts: ChunkRunOptions,
  request: { custom_id: string; url: string; body: Record<string, unknown> },
  signal: AbortSignal,
): Promise<ResultLine | undefined> {
  const lineId = deps.ids.requestLineId();
  const attempt = async () => {
    if (signal.aborted) throw new AbortError('stopped');
    const r = await opts.engine.send(request.url, request.body, signal);
    // The engine's back-pressure sets how many requests the worker lets out at once.
    if (r.status === 429 || r.status === 503) opts.budget?.overloaded();
    else if (r.status < 300) opts.budget?.succeeded();
    if (isRetryableStatus(r.status)) throw new RetryableResponse(r);
    return r;
  };
  const minTimeout = opts.retryMinTimeoutMs ?? 200;
  try {
    // Most requests succeed at once, so the first try goes without p-retry's per-call overhead;
    // after a failure p-retry takes over (exponential backoff with jitter).
    const res = await attempt().catch(async (err: unknown) => {
      if (signal.aborted || opts.maxRetries === 0) throw err;
      await new Promise((r) => setTimeout(r, minTimeout * (1 + Math.random())));
      return pRetry(attempt, {
        retries: opts.maxRetries - 1,
        factor: 2,
        minTimeout: minTimeout * 2,
        maxTimeout: 10_000,
        randomize: true,
      });
    });
    // A non-retryable error status (say 400) is the request's answer: kept with the engine's status and body.
    return responseLine(lineId, request.custom_id, deps.ids.requestId(), res.status, res.body);
  } catch (err) {
    if (signal.aborted) return undefined;
    if (err instanceof RetryableResponse) {
      return responseLine(
        lineId,
        request.custom_id,
        deps.ids.requestId(),
        err.response.status,
        err.response.body,
      );
    }
    return errorLine(
      lineId,
      request.custom_id,
      'engine_unavailable',
      `The inference engine could not be reached: ${(err as Error).message}`,
    );
  }
}

/** Writes the finished lines (in line order) as a checkpoint object; undefined when none are. */
async function writeCheckpoint(
  deps: ChunkDeps,
  msg: ChunkMessage,
  finished: ReadonlyMap<number, ResultLine>,
  order: readonly number[],
  isReused: (line: number) => boolean,
): Promise<{ key: string; lines: number } | undefined> {
  if (finished.size === 0) return undefined;
  const attempt = `a${msg.attempt}-${deps.ids.requestId().slice(4, 16)}`;
  const key = keys.checkpoint(msg.tenant, msg.batchId, msg.chunk, attempt);
  const body = order
    .filter((n) => finished.has(n))
    .map((n) => {
      const f: Finished = {
        line: n,
        result: finished.get(n) as ResultLine,
        ...(isReused(n) ? { reused: true } : {}),
      };
      return `${JSON.stringify(f)}\n`;
    })
    .join('');
  await deps.blobs.put(key, body);
  return { key, lines: finished.size };
}

/**
 * Checkpoints the finished lines every `everyMs` while the chunk runs, so a worker killed
 * without warning (no SIGTERM, no hand-off) costs at most that much work: the next attempt,
 * which SQS delivers once the visibility timeout lapses, skips what was saved.
 */
function checkpointPeriodically(
  deps: ChunkDeps,
  msg: ChunkMessage,
  finished: ReadonlyMap<number, ResultLine>,
  order: readonly number[],
  isReused: (line: number) => boolean,
  everyMs: number,
): { stop(): Promise<void> } {
  const ref = { tenant: msg.tenant, batchId: msg.batchId };
  let saved = finished.size;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (finished.size <= saved) return;
      const size = finished.size;
      const checkpoint = await writeCheckpoint(deps, msg, finished, order, isReused);
      if (await deps.batches.saveCheckpoint(ref, msg.chunk, checkpoint, false)) saved = size;
    });
    running = running.catch(() => {}); // a missed checkpoint is retried at the next tick
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Shows the chunk's finished lines in its batch's request_counts every `everyMs` while it
 * runs, so a user watching a long chunk sees counts move instead of 0 for minutes. A report
 * sets the chunk's progress (never adds), only while the chunk is pending; the completion
 * replaces it with the final counts. Nothing is written when nothing changed, so a chunk that
 * ends within `everyMs` costs no call.
 */
function reportProgressPeriodically(
  deps: ChunkDeps,
  msg: ChunkMessage,
  finished: ReadonlyMap<number, ResultLine>,
  everyMs: number,
): { stop(): Promise<void> } {
  const ref = { tenant: msg.tenant, batchId: msg.batchId };
  let reported = 0;
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running || finished.size === reported) return;
    const size = finished.size;
    let completed = 0;
    for (const result of finished.values()) if (isSuccess(result)) completed += 1;
    running = deps.batches
      .reportProgress(ref, msg.chunk, { completed, failed: size - completed })
      .then(
        () => {
          reported = size;
        },
        () => {}, // shown at the next tick
      )
      .finally(() => {
        running = undefined;
      });
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

async function handOff(
  deps: ChunkDeps,
  msg: ChunkMessage,
  finished: Map<number, ResultLine>,
  order: number[],
  isReused: (line: number) => boolean,
  to: HandOff,
): Promise<void> {
  const ref = { tenant: msg.tenant, batchId: msg.batchId };
  const checkpoint = await writeCheckpoint(deps, msg, finished, order, isReused);
  if (!(await deps.batches.saveCheckpoint(ref, msg.chunk, checkpoint))) return; // completed elsewhere meanwhile
  if (to === 'own-pool') return; // the caller releases the message to its own queue
  // Reclaimed work resumes on capacity that will not be taken away again.
  await deps.queue.send('dedicated', {
    ...msg,
    attempt: msg.attempt + 1,
  } satisfies ChunkMessage);
}

async function readCheckpoint(deps: Pick<Deps, 'blobs'>, key: string): Promise<Finished[]> {
  const text = (await deps.blobs.read(key)).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Finished);
}
