import type { Deps } from '../app/deps.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { toUnixSeconds } from '../clock.js';
import { batchDedupMode } from '../dedup/normalise.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { isExpired } from '../files/files-service.js';
import {
  type BatchObject,
  type ChunkView,
  type CreateBatchBody,
  isSupportedEndpoint,
  type ListPage,
  SUPPORTED_ENDPOINTS,
} from '../openai/schemas.js';
import { costRatesOf } from '../pricing/cost.js';
import { admitAtCreate, WINDOW_INFEASIBLE } from '../sla/admission.js';
import { allowedWindowMs, windowAllowlist } from '../sla/windows.js';
import { type BatchRecord, newBatchRecord, toBatchObject } from './batch-record.js';
import { cancelOutcome } from './lifecycle.js';

type BatchDeps = Pick<Deps, 'batches' | 'files' | 'queue' | 'clock' | 'ids' | 'limits' | 'sla'>;

export async function createBatch(
  deps: BatchDeps,
  tenant: string,
  body: CreateBatchBody,
  options: { retryOf?: string } = {},
): Promise<BatchObject> {
  if (!isSupportedEndpoint(body.endpoint)) {
    throw new BadRequestError(
      `Invalid value for 'endpoint': '${body.endpoint}' is not supported. Supported: ${SUPPORTED_ENDPOINTS.join(', ')}.`,
      'endpoint',
    );
  }
  const allowlist = windowAllowlist(deps.limits.COMPLETION_WINDOWS);
  const windowMs = allowedWindowMs(allowlist, body.completion_window);
  if (windowMs === undefined) {
    throw new BadRequestError(
      `Invalid value for 'completion_window': supported values are ${allowlist.names.map((w) => `'${w}'`).join(', ')}.`,
      'completion_window',
    );
  }
  const file = await deps.files.get(tenant, body.input_file_id);
  if (!file || isExpired(file, deps.clock.now()))
    throw new NotFoundError(`No such File object: ${body.input_file_id}`, 'input_file_id');
  if (file.purpose !== 'batch') {
    throw new BadRequestError(
      `File ${file.id} has purpose '${file.purpose}'; batches need purpose 'batch'.`,
      'input_file_id',
    );
  }
  const nowMs = deps.clock.now();
  const priority = body.priority ?? 'normal';
  const admission = admitAtCreate(deps, {
    tenant,
    priority,
    inputBytes: file.bytes,
    nowMs,
    windowMs,
  });
  if (!admission.accepted)
    throw new BadRequestError(admission.reason, 'completion_window', WINDOW_INFEASIBLE);
  const batchId = deps.ids.batchId();
  // The batch holds its input from here on: the file cannot be deleted until the batch ends.
  if (!(await deps.files.reserve(tenant, file.id, batchId)))
    throw new NotFoundError(`No such File object: ${body.input_file_id}`, 'input_file_id');
  const record = newBatchRecord({
    tenant,
    id: batchId,
    endpoint: body.endpoint,
    inputFileId: body.input_file_id,
    inputKey: file.s3_key,
    inputBytes: file.bytes,
    completionWindow: body.completion_window,
    windowMs,
    metadata: body.metadata,
    outputExpiresAfter: body.output_expires_after,
    priority,
    nowMs,
    ...(options.retryOf ? { retryOf: options.retryOf } : {}),
    dedup: batchDedupMode(deps.limits.DEDUP, body.openbatch?.dedup),
  });
  if (admission.warning) record.admission_warning = admission.warning;
  if (file.plan) record.plan = file.plan;
  try {
    await deps.batches.create(record);
  } catch (err) {
    await deps.files.release(tenant, file.id, batchId);
    throw err;
  }
  await deps.queue.send('scheduling', { tenant, batchId: record.id } satisfies BatchRef);
  return toBatchObject(record, costRatesOf(deps.sla));
}

export async function getBatchRecord(deps: Pick<Deps, 'batches'>, ref: BatchRef): Promise<BatchRecord> {
  const record = await deps.batches.get(ref);
  if (!record) throw new NotFoundError(`No such Batch object: ${ref.batchId}`, 'batch_id');
  return record;
}

export async function listBatches(
  deps: Pick<Deps, 'batches' | 'sla'>,
  tenant: string,
  query: { after?: string; limit: number },
): Promise<ListPage<BatchObject>> {
  const { items, hasMore } = await deps.batches.list(tenant, query);
  const rates = costRatesOf(deps.sla);
  const data = items.map((r) => toBatchObject(r, rates));
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}

export async function listChunkViews(
  deps: Pick<Deps, 'batches'>,
  ref: BatchRef,
): Promise<ListPage<ChunkView>> {
  await getBatchRecord(deps, ref);
  const chunks = await deps.batches.listChunks(ref);
  const data: ChunkView[] = chunks
    .sort((a, b) => a.chunk - b.chunk)
    .map((c) => ({
      object: 'batch.chunk',
      chunk: c.chunk,
      status: c.status,
      requests: c.requests,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      pool: c.pool ?? null,
      escalated: c.escalated ?? false,
      interruptions: c.interruptions ?? 0,
      line_start: c.lineStart,
      line_end: c.lineEnd,
    }));
  return { object: 'list', data, first_id: null, last_id: null, has_more: false };
}

/**
 * Stops a batch: unstarted chunks are never run and in-flight ones are not counted; the
 * finalizer writes the partial output and ends the batch `cancelled`.
 */
export async function cancelBatch(deps: BatchDeps, ref: BatchRef): Promise<BatchObject> {
  const record = await getBatchRecord(deps, ref);
  const outcome = cancelOutcome(record.status);
  if (outcome === 'already-cancelling') return toBatchObject(record, costRatesOf(deps.sla));
  if (outcome === 'conflict') {
    throw new ConflictError(`Cannot cancel a batch with status '${record.status}'.`);
  }
  const updated = await deps.batches.transition(ref, 'cancelling', toUnixSeconds(deps.clock.now()), {
    end_reason: 'cancelled',
  });
  if (!updated) return cancelBatch(deps, ref); // it moved on meanwhile: answer for its new status
  await deps.queue.send('finalizing', ref);
  return toBatchObject(updated, costRatesOf(deps.sla));
}
