import { toUnixSeconds } from '../clock.js';
import { slaSchema } from '../config.js';
import type { DedupMode } from '../dedup/normalise.js';
import type {
  BatchError,
  BatchObject,
  BatchPriority,
  BatchStatus,
  ExpiresAfter,
  OpenBatchExtension,
} from '../openai/schemas.js';
import { type CostRates, costRatesOf, estimateCost } from '../pricing/cost.js';
import { toBatchUsage } from '../results/usage.js';
import { parseWindow } from '../sla/windows.js';
import type { EndReason } from './lifecycle.js';

/** Lines a running chunk has finished so far (its live progress). */
export interface ChunkProgress {
  completed: number;
  failed: number;
}

/** A batch as stored in the batches table. Timestamps are unix seconds, as OpenAI's. */
export interface BatchRecord {
  /**
   * Live progress of each running chunk, `progress_<chunk>`: set by the worker every few
   * seconds, removed by the chunk's completion (which adds the final counts instead).
   */
  [chunkProgress: `progress_${number}`]: ChunkProgress | undefined;
  tenant: string;
  id: string;
  endpoint: string;
  input_file_id: string;
  /** The input file's S3 key and size, resolved once at create: the flows never look the file up again. */
  input_key: string;
  input_bytes: number;
  completion_window: string;
  status: BatchStatus;
  created_at: number;
  expires_at: number;
  in_progress_at?: number;
  finalizing_at?: number;
  completed_at?: number;
  failed_at?: number;
  expired_at?: number;
  cancelling_at?: number;
  cancelled_at?: number;
  /** Totals; `completed`/`failed` are a per-chunk fast path until finalization sets them from chunk records. */
  total: number;
  completed: number;
  failed: number;
  metadata?: Record<string, string> | null;
  /** OpenAI's `output_expires_after`: the output and error files expire this long after their creation. */
  output_expires_after?: ExpiresAfter;
  errors?: BatchError[];
  output_file_id?: string;
  error_file_id?: string;
  model?: string;
  priority: BatchPriority;
  chunk_count?: number;
  /**
   * Validation segments done so far, for a file too large for one scheduler invocation; the
   * planner's state after the last one is in S3 (keys.validationState).
   */
  validation_segment?: number;
  /** Unix seconds of the last sign of validation progress (a segment done, a re-drive sent). */
  validation_progress_at?: number;
  /** Scheduling messages the SLA monitor sent again for a batch stuck validating. */
  validation_redrives?: number;
  /**
   * The input file's plan, copied from its record at create (core/chunks/file-plan.ts): the
   * scheduler uses it instead of reading the file again. Removed when validation ends.
   */
  plan?: string;
  /** Set once every chunk message has been sent, so a retried scheduler knows to resend. */
  enqueued?: boolean;
  end_reason?: EndReason;
  /** Display counters kept per chunk (fast path; decisions use the chunk records). */
  chunks_done?: number;
  /** The pool group of the batch's model (core/models/catalog.ts), set when validation ends. */
  pool_group?: string;
  /**
   * When a chunk of the batch last completed (unix seconds). A running batch with chunks left
   * and none completed for DISPATCH_STALL_SECONDS lost the message that would have sent its next
   * chunks (core/chunks/dispatch.ts): the SLA monitor sends its pending chunks again.
   */
  last_chunk_at?: number;
  chunks_escalated?: number;
  interruptions?: number;
  spot_requests?: number;
  dedicated_requests?: number;
  /**
   * Token usage of the done chunks, added by each chunk's completion (the same transaction that
   * counts its requests), so each chunk counts exactly once, also for partial and expired batches.
   */
  usage_input?: number;
  usage_cached?: number;
  usage_output?: number;
  usage_reasoning?: number;
  /** Unix seconds until which one finalizer owns the batch. */
  finalizer_lease?: number;
  /**
   * Set by the SLA monitor: the policy judged the batch at risk of missing its window (escalated
   * to dedicated capacity for its deadline, or with nowhere better to go). Cleared when the
   * batch de-escalates.
   */
  at_risk?: boolean;
  /**
   * The policy's escalation state (core/policy `Escalation`), handed back to it every sweep:
   * whether the batch's work goes to dedicated capacity for its deadline, and since when (unix
   * ms; the de-escalation dwell counts from here). Absent until the first sweep.
   */
  escalation?: { escalated: boolean; since_ms: number };
  /** The pool the batch's new chunk messages go to, as the policy last routed it. */
  route_pool?: 'spot' | 'dedicated';
  /** Why the batch was admitted although it may miss its window (SLA_ADMISSION=warn). */
  admission_warning?: string | null;
  /** Present only while the batch runs: the key of the sparse `active-by-expiry` index. */
  active?: 'yes';
  /** The batch whose requests this one retries. */
  retry_of?: string;
  /** Batches created to retry this one's requests, oldest first. */
  retries?: string[];
  /** Exact deduplication (docs/dedup.md), decided at create; absent on batches created before it: off. */
  dedup?: DedupMode;
  /** Requests answered by reuse, added by each chunk's completion (exactly once, as the counts). */
  reused?: number;
}

export function newBatchRecord(input: {
  tenant: string;
  id: string;
  endpoint: string;
  inputFileId: string;
  inputKey: string;
  inputBytes: number;
  completionWindow: string;
  windowMs: number;
  metadata: Record<string, string> | null | undefined;
  outputExpiresAfter?: ExpiresAfter | null | undefined;
  priority: BatchPriority | undefined;
  nowMs: number;
  retryOf?: string;
  dedup?: DedupMode;
}): BatchRecord {
  return {
    tenant: input.tenant,
    id: input.id,
    endpoint: input.endpoint,
    input_file_id: input.inputFileId,
    input_key: input.inputKey,
    input_bytes: input.inputBytes,
    completion_window: input.completionWindow,
    status: 'validating',
    created_at: toUnixSeconds(input.nowMs),
    expires_at: toUnixSeconds(input.nowMs + input.windowMs),
    total: 0,
    completed: 0,
    failed: 0,
    metadata: input.metadata ?? null,
    ...(input.outputExpiresAfter ? { output_expires_after: input.outputExpiresAfter } : {}),
    priority: input.priority ?? 'normal',
    active: 'yes',
    ...(input.retryOf ? { retry_of: input.retryOf } : {}),
    ...(input.dedup ? { dedup: input.dedup } : {}),
  };
}

/** The cost rates of a deployment that sets none: the SLA settings' defaults. */
const DEFAULT_COST_RATES = costRatesOf(slaSchema.parse({}));

export function toBatchObject(r: BatchRecord, rates: CostRates = DEFAULT_COST_RATES): BatchObject {
  return {
    id: r.id,
    object: 'batch',
    endpoint: r.endpoint,
    errors: r.errors && r.errors.length > 0 ? { object: 'list', data: r.errors } : null,
    input_file_id: r.input_file_id,
    completion_window: r.completion_window,
    status: r.status,
    output_file_id: r.output_file_id ?? null,
    error_file_id: r.error_file_id ?? null,
    created_at: r.created_at,
    in_progress_at: r.in_progress_at ?? null,
    expires_at: r.expires_at,
    finalizing_at: r.finalizing_at ?? null,
    completed_at: r.completed_at ?? null,
    failed_at: r.failed_at ?? null,
    expired_at: r.expired_at ?? null,
    cancelling_at: r.cancelling_at ?? null,
    cancelled_at: r.cancelled_at ?? null,
    request_counts: requestCounts(r),
    metadata: r.metadata ?? null,
    ...(r.model ? { model: r.model } : {}),
    usage: toBatchUsage({
      input: r.usage_input ?? 0,
      cached: r.usage_cached ?? 0,
      output: r.usage_output ?? 0,
      reasoning: r.usage_reasoning ?? 0,
    }),
    openbatch: openbatchExtension(r, rates),
  };
}

/**
 * The batch's request counts: the done chunks' counters plus, while it runs, the lines its
 * running chunks have finished so far. Once the batch ends, the finalizer's counts (from the
 * chunk records) are the whole story and leftover progress is ignored.
 */
export function requestCounts(r: BatchRecord): { total: number; completed: number; failed: number } {
  let completed = r.completed;
  let failed = r.failed;
  if (r.status === 'in_progress') {
    for (const [key, value] of Object.entries(r)) {
      if (!key.startsWith('progress_') || typeof value !== 'object' || value === null) continue;
      const p = value as Partial<ChunkProgress>;
      completed += Number(p.completed) || 0;
      failed += Number(p.failed) || 0;
    }
  }
  return { total: r.total, completed: Math.min(completed, r.total), failed: Math.min(failed, r.total) };
}

/** SLA state: met or breached once ended; at risk while the SLA monitor's policy says so. */
export function slaState(r: BatchRecord): OpenBatchExtension['sla']['state'] {
  switch (r.status) {
    case 'completed':
      return 'met';
    case 'expired':
      return 'breached';
    case 'failed':
    case 'cancelled':
    case 'cancelling':
      return null;
    default:
      return r.at_risk ? 'at_risk' : 'on_track';
  }
}

function openbatchExtension(r: BatchRecord, rates: CostRates): OpenBatchExtension {
  return {
    priority: r.priority,
    ...(r.admission_warning ? { admission_warning: r.admission_warning } : {}),
    sla: { deadline_at: r.expires_at, state: slaState(r) },
    pools: { spot: r.spot_requests ?? 0, dedicated: r.dedicated_requests ?? 0 },
    pool_group: r.pool_group ?? null,
    route: r.route_pool ?? null,
    chunks: {
      total: r.chunk_count ?? 0,
      done: r.chunks_done ?? 0,
      escalated: r.chunks_escalated ?? 0,
      interruptions: r.interruptions ?? 0,
    },
    retry_of: r.retry_of ?? null,
    retries: r.retries ?? [],
    // Estimated from the requests each pool ran (done chunks), so it grows as chunks complete.
    cost: estimateCost(
      { spot: r.spot_requests ?? 0, dedicated: r.dedicated_requests ?? 0, reused: r.reused ?? 0 },
      rates,
    ),
    dedup: r.dedup ?? 'off',
    reused: r.reused ?? 0,
  };
}

/** Parses a completion window such as `7d`, `24h`, `90m` or `30s` into milliseconds. */
export function completionWindowMs(window: string): number | undefined {
  return parseWindow(window);
}
