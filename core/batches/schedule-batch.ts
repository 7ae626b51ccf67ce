import type { Deps } from '../app/deps.js';
import type { BatchRef, ChunkMessage } from '../chunks/chunk-message.js';
import type { ChunkRange } from '../chunks/plan-chunks.js';
import { planChunks } from '../chunks/plan-chunks.js';
import { toUnixSeconds } from '../clock.js';
import type { BatchError } from '../openai/schemas.js';
import { choosePool, isAtRisk } from '../sla/policy.js';
import type { BatchRecord } from './batch-record.js';

type SchedulerDeps = Pick<Deps, 'batches' | 'blobs' | 'queue' | 'clock' | 'limits' | 'sla'>;

export type ScheduleOutcome = 'scheduled' | 'failed' | 'resent' | 'not-validating';

export const chunkMessage = (batch: BatchRecord, c: ChunkRange, attempt = 1): ChunkMessage => ({
  v: 1,
  tenant: batch.tenant,
  batchId: batch.id,
  chunk: c.chunk,
  key: batch.input_key,
  byteStart: c.byteStart,
  byteEnd: c.byteEnd,
  lineStart: c.lineStart,
  lineEnd: c.lineEnd,
  attempt,
});

/**
 * Validates a batch's input file in one streaming pass and fans it out as chunk messages.
 * Safe to run again for the same batch (SQS delivers at least once): a batch already in
 * progress whose messages were not all sent gets them sent again; duplicates are harmless
 * because chunks complete exactly once.
 */
export async function scheduleBatch(deps: SchedulerDeps, ref: BatchRef): Promise<ScheduleOutcome> {
  const batch = await deps.batches.get(ref);
  if (!batch) return 'not-validating';
  if (batch.status === 'in_progress' && !batch.enqueued) {
    const pending = (await deps.batches.listChunks(ref)).filter((c) => c.status === 'pending');
    await enqueue(deps, batch, pending);
    return 'resent';
  }
  if (batch.status !== 'validating') return 'not-validating';

  const fail = async (errors: BatchError[]) => {
    await deps.batches.transition(ref, 'failed', toUnixSeconds(deps.clock.now()), { errors });
    return 'failed' as const;
  };
  const fileError = (code: string, message: string): BatchError[] => [
    { code, message, param: null, line: null },
  ];
  if (batch.input_bytes > deps.limits.MAX_BATCH_FILE_BYTES) {
    return fail(
      fileError(
        'file_too_large',
        `The input file is larger than the maximum of ${deps.limits.MAX_BATCH_FILE_BYTES} bytes.`,
      ),
    );
  }

  const input = await deps.blobs.stream(batch.input_key).catch((err: unknown) => {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  });
  if (!input)
    return fail(fileError('invalid_file', `The input file ${batch.input_file_id} no longer exists.`));
  const plan = await planChunks(input, {
    endpoint: batch.endpoint,
    limits: deps.limits,
  });
  if (!plan.ok) return fail(plan.errors);

  await deps.batches.putChunks(ref, plan.chunks, batch.expires_at + 7 * 86_400);
  const started = await deps.batches.transition(
    ref,
    'in_progress',
    toUnixSeconds(deps.clock.now()),
    { total: plan.total, chunk_count: plan.chunks.length, ...(plan.model ? { model: plan.model } : {}) },
    ['validating'],
  );
  if (!started) return 'not-validating'; // cancelled while validating: the finalizer ends it
  await enqueue(deps, started, plan.chunks);
  return 'scheduled';
}

async function enqueue(
  deps: SchedulerDeps,
  batch: BatchRecord,
  chunks: readonly ChunkRange[],
): Promise<void> {
  const atRisk = isAtRisk(
    {
      nowMs: deps.clock.now(),
      deadlineMs: batch.expires_at * 1000,
      remainingRequests: batch.total,
      requestsPerSecond: deps.sla.SLA_ASSUMED_REQUESTS_PER_SECOND,
    },
    deps.sla,
  );
  const pool = choosePool(batch.priority, atRisk);
  await deps.queue.sendAll(
    pool,
    chunks.map((c) => chunkMessage(batch, c)),
  );
  await deps.batches.update({ tenant: batch.tenant, batchId: batch.id }, { enqueued: true });
}
