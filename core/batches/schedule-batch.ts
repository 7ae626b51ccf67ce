import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { batchWindow, messageBase, windowedMessages } from '../chunks/dispatch.js';
import { planRules, usableFilePlan } from '../chunks/file-plan.js';
import { ChunkPlanner, type ChunkRange, freshPlannerState, type PlanResult } from '../chunks/plan-chunks.js';
import { decodePlannerState, encodePlannerState } from '../chunks/planner-state.js';
import { toUnixSeconds } from '../clock.js';
import { splitLineBatches } from '../lines/split-lines.js';
import { catalogOf, poolGroupOf, poolQueueOf } from '../models/catalog.js';
import type { BatchError } from '../openai/schemas.js';
import { admitValidated } from '../sla/admission.js';
import { routeForChunks } from '../sla/routing.js';
import type { BatchRecord } from './batch-record.js';

type SchedulerDeps = Pick<Deps, 'batches' | 'blobs' | 'files' | 'queue' | 'clock' | 'limits' | 'sla'>;

export type ScheduleOutcome = 'scheduled' | 'continued' | 'failed' | 'resent' | 'not-validating';

export interface ScheduleOptions {
  /** Milliseconds left in this invocation (Lambda's context); the segment ends well before. */
  remainingMs?: () => number;
}

/** Time kept in hand after a segment, to save its state and hand over. */
const HANDOVER_MS = 60_000;

/**
 * Validates a batch's input file as a stream and fans it out as chunk messages. A file too
 * large for one invocation is validated in segments: each saves the planner's state to S3,
 * moves the batch's `validation_segment` on (conditionally, so a duplicate delivery cannot run
 * a segment twice) and asks for the next. Safe to run again for the same batch (SQS delivers
 * at least once): a batch in progress whose messages were not all sent gets them sent again;
 * duplicates are harmless because chunks complete exactly once.
 */
export async function scheduleBatch(
  deps: SchedulerDeps,
  ref: BatchRef,
  opts: ScheduleOptions = {},
): Promise<ScheduleOutcome> {
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
    await deps.files.release(ref.tenant, batch.input_file_id, ref.batchId);
    await discardValidationState(deps, batch);
    return 'failed' as const;
  };
  const fileError = (code: string, message: string): BatchError[] => [
    { code, message, param: null, line: null },
  ];
  const inputGone = fileError('invalid_file', `The input file ${batch.input_file_id} no longer exists.`);
  if (batch.input_bytes > deps.limits.MAX_BATCH_FILE_BYTES) {
    return fail(
      fileError(
        'file_too_large',
        `The input file is larger than the maximum of ${deps.limits.MAX_BATCH_FILE_BYTES} bytes.`,
      ),
    );
  }

  // A file validated clean when it was uploaded (core/chunks/file-plan.ts) is not read again:
  // only its object is checked to be there, beside the chunk records' write below.
  const planned = batch.validation_segment
    ? undefined
    : usableFilePlan(batch.plan, batch.endpoint, deps.limits);
  const plan = planned
    ? ({ ok: true, chunks: planned.chunks, total: planned.total, model: planned.model } satisfies PlanResult)
    : await validateFile(deps, batch, opts);
  if (plan === 'continued' || plan === 'not-validating') return plan;
  if (plan === 'missing') return fail(inputGone);
  if (!plan.ok) return fail(plan.errors);
  // The exact request count is known now: admission again (core/sla/admission.ts), beside the
  // chunk records' write (records of a batch refused here run nothing and expire with it).
  const [admission, present] = await Promise.all([
    // The model is known now (the record gets it below): its pool group's bounds apply.
    admitValidated(deps, plan.model ? { ...batch, model: plan.model } : batch, plan.total, deps.clock.now()),
    planned ? deps.blobs.size(batch.input_key).then((bytes) => bytes === batch.input_bytes) : true,
    deps.batches.putChunks(ref, plan.chunks, batch.expires_at + 7 * 86_400),
  ]);
  if (!present) return fail(inputGone);
  if (!admission.ok) return fail(admission.errors);
  const running = await deps.batches.transition(
    ref,
    'in_progress',
    toUnixSeconds(deps.clock.now()),
    {
      total: plan.total,
      chunk_count: plan.chunks.length,
      ...(plan.model ? { model: plan.model } : {}),
      pool_group: poolGroupOf(catalogOf(deps.limits), plan.model),
    },
    ['validating'],
  );
  if (!running) return 'not-validating'; // cancelled while validating: the finalizer ends it
  await enqueue(deps, running, plan.chunks);
  await discardValidationState(deps, batch);
  return 'scheduled';
}

/**
 * Reads the input file as a stream and validates it line by line, up to the end of this
 * invocation's segment: the plan, or `continued` when the next segment was asked for.
 */
async function validateFile(
  deps: SchedulerDeps,
  batch: BatchRecord,
  opts: ScheduleOptions,
): Promise<PlanResult | 'continued' | 'not-validating' | 'missing'> {
  const ref = { tenant: batch.tenant, batchId: batch.id };
  const segment = batch.validation_segment ?? 0;
  const from =
    segment > 0
      ? decodePlannerState(await deps.blobs.read(keys.validationState(ref.tenant, ref.batchId, segment)))
      : freshPlannerState();
  const input = await deps.blobs
    .stream(batch.input_key, from.byte > 0 ? { start: from.byte, end: batch.input_bytes } : undefined)
    .catch((err: unknown) => {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    });
  if (!input) return 'missing';

  const planner = new ChunkPlanner(planRules(deps.limits, batch.endpoint), from);
  const started = deps.clock.now();
  const segmentMs = Math.min(
    deps.limits.SCHEDULER_SEGMENT_SECONDS * 1000,
    (opts.remainingMs?.() ?? Number.POSITIVE_INFINITY) - HANDOVER_MS,
  );
  const maxLines = deps.limits.SCHEDULER_SEGMENT_LINES || Number.POSITIVE_INFINITY;
  let lines = 0;
  let resumeAt: { byte: number; line: number } | undefined;
  reading: for await (const items of splitLineBatches(input, {
    startOffset: from.byte,
    firstLineNumber: from.line,
    maxLineBytes: deps.limits.MAX_LINE_BYTES,
  })) {
    for (const item of items) {
      planner.add(item);
      if (planner.done) break reading;
      lines += 1;
      const atEnd = item.end >= batch.input_bytes;
      // The clock is read every 1,000 lines: cheap, and a segment overshoots by a few ms at most.
      if (!atEnd && (lines >= maxLines || (lines % 1000 === 0 && deps.clock.now() - started >= segmentMs))) {
        resumeAt = { byte: item.end, line: item.number + 1 };
        break reading;
      }
    }
  }

  if (resumeAt) {
    const next = segment + 1;
    await deps.blobs.put(
      keys.validationState(ref.tenant, ref.batchId, next),
      encodePlannerState(planner.state(resumeAt.byte, resumeAt.line)),
      'application/octet-stream',
    );
    if (!(await deps.batches.advanceValidation(ref, segment, next, toUnixSeconds(deps.clock.now()))))
      return 'not-validating';
    await deps.queue.send('scheduling', ref);
    return 'continued';
  }

  return planner.result();
}

/** Removes the saved states of a segmented validation, once they are no longer needed. */
async function discardValidationState(deps: Pick<Deps, 'blobs'>, batch: BatchRecord): Promise<void> {
  for (let s = 1; s <= (batch.validation_segment ?? 0); s++) {
    await deps.blobs.delete(keys.validationState(batch.tenant, batch.id, s));
  }
}

async function enqueue(
  deps: SchedulerDeps,
  batch: BatchRecord,
  chunks: readonly ChunkRange[],
): Promise<void> {
  const route = routeForChunks(deps, batch, deps.clock.now());
  await deps.queue.sendAll(
    poolQueueOf(catalogOf(deps.limits), batch.model, route.pool),
    windowedMessages(messageBase(batch), chunks, batchWindow(deps.limits, batch)),
  );
  await deps.batches.update({ tenant: batch.tenant, batchId: batch.id }, { enqueued: true, ...route.fields });
}
