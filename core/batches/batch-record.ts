import { toUnixSeconds } from '../clock.js';
import type {
  BatchError,
  BatchObject,
  BatchStatus,
  ExpiresAfter,
  OpenBatchExtension,
} from '../openai/schemas.js';
import { toBatchUsage } from '../results/usage.js';
import type { EndReason } from './lifecycle.js';

/** A batch as stored in the batches table. Timestamps are unix seconds, as OpenAI's. */
export interface BatchRecord {
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
  priority: 'normal' | 'high';
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
  /** Set once every chunk message has been sent, so a retried scheduler knows to resend. */
  enqueued?: boolean;
  end_reason?: EndReason;
  /** Display counters kept per chunk (fast path; decisions use the chunk records). */
  chunks_done?: number;
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
  /** Set by the SLA monitor when it escalated the batch's work to dedicated capacity. */
  at_risk?: boolean;
  /** Present only while the batch runs: the key of the sparse `active-by-expiry` index. */
  active?: 'yes';
  /** The batch whose requests this one retries. */
  retry_of?: string;
  /** Batches created to retry this one's requests, oldest first. */
  retries?: string[];
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
  priority: 'normal' | 'high' | undefined;
  nowMs: number;
  retryOf?: string;
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
  };
}

export function toBatchObject(r: BatchRecord): BatchObject {
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
    request_counts: { total: r.total, completed: r.completed, failed: r.failed },
    metadata: r.metadata ?? null,
    ...(r.model ? { model: r.model } : {}),
    usage: toBatchUsage({
      input: r.usage_input ?? 0,
      cached: r.usage_cached ?? 0,
      output: r.usage_output ?? 0,
      reasoning: r.usage_reasoning ?? 0,
    }),
    openbatch: openbatchExtension(r),
  };
}

/** SLA state: met or breached once ended; at risk once the SLA monitor escalated it. */
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

function openbatchExtension(r: BatchRecord): OpenBatchExtension {
  return {
    priority: r.priority,
    sla: { deadline_at: r.expires_at, state: slaState(r) },
    pools: { spot: r.spot_requests ?? 0, dedicated: r.dedicated_requests ?? 0 },
    chunks: {
      total: r.chunk_count ?? 0,
      done: r.chunks_done ?? 0,
      escalated: r.chunks_escalated ?? 0,
      interruptions: r.interruptions ?? 0,
    },
    retry_of: r.retry_of ?? null,
    retries: r.retries ?? [],
  };
}

/** Parses a completion window such as `24h`, `90m` or `30s` into milliseconds. */
export function completionWindowMs(window: string): number | undefined {
  const m = /^(\d+)([smh])$/.exec(window);
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}
