import type { BatchObject, OpenBatchExtension } from '../../../core/openai/schemas.js';
import { type CostRates, estimateCost } from '../../../core/pricing/cost.js';

/**
 * Fields issue 10 adds to the batch object (retries, usage) that the fixtures do not set one by
 * one. They are spread in, so the fixtures type-check whether or not the API declares them yet.
 */
const laterFields = {
  retry_of: null,
  retries: [] as string[],
  dedup: 'on' as const,
  reused: 0,
  pool_group: 'default' as string | null,
  route: 'spot' as 'spot' | 'dedicated' | null,
};
const laterBatchFields = {
  usage: {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  },
};

/** The SLA settings' default rates (core/config.ts): $0.30 Spot, $0.8048 On-Demand a task-hour, 5 requests/s. */
export const FIXTURE_COST_RATES: CostRates = {
  spotPerTaskHour: 0.3,
  onDemandPerTaskHour: 0.8048,
  requestsPerSecondPerTask: 5,
};

/**
 * The openbatch extension of a fixture batch, from the fields the portal tests care about; its
 * cost estimate is the server's own (core/pricing/cost.ts) for the requests each pool ran.
 */
export function extension(
  over: Pick<OpenBatchExtension, 'priority' | 'sla' | 'pools' | 'chunks'> &
    Partial<
      Pick<OpenBatchExtension, 'cost' | 'retry_of' | 'retries' | 'dedup' | 'reused' | 'admission_warning'>
    >,
): OpenBatchExtension {
  return { ...laterFields, cost: estimateCost(over.pools, FIXTURE_COST_RATES), ...over };
}

/** A batch object as the API renders it, with the fields a test cares about overridden. */
export function batch(
  over: Partial<BatchObject> & { id: string },
  counts: BatchObject['request_counts'] = { total: 0, completed: 0, failed: 0 },
): BatchObject {
  const status = over.status ?? 'completed';
  const created = over.created_at ?? 1_800_000_000;
  const base = {
    ...laterBatchFields,
    object: 'batch' as const,
    endpoint: '/v1/chat/completions',
    errors: null,
    input_file_id: `file-in-${over.id}`,
    completion_window: '24h',
    status,
    output_file_id: null,
    error_file_id: null,
    created_at: created,
    in_progress_at: null,
    expires_at: created + 86_400,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: counts,
    metadata: null,
    model: 'sim-small',
    openbatch: extension({
      priority: 'normal',
      sla: {
        deadline_at: created + 86_400,
        state:
          status === 'completed'
            ? 'met'
            : status === 'expired'
              ? 'breached'
              : ['failed', 'cancelled', 'cancelling'].includes(status)
                ? null
                : 'on_track',
      },
      pools: { spot: Math.max(0, counts.completed - 1), dedicated: counts.completed > 0 ? 1 : 0 },
      chunks: { total: 1, done: status === 'completed' ? 1 : 0, escalated: 0, interruptions: 0 },
    }),
    ...over,
  };
  return base;
}
