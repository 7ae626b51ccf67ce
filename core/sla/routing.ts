import type { Deps } from '../app/deps.js';
import type { BatchRecord } from '../batches/batch-record.js';
import { decide, type Pool } from '../policy/index.js';
import { policyInput, toPolicyBatch } from './policy-inputs.js';

export interface ChunkRoute {
  readonly pool: Pool;
  /** What to store on the batch with the send, so the SLA monitor continues from this route. */
  readonly fields: Pick<BatchRecord, 'route_pool' | 'escalation' | 'at_risk'> | Record<string, never>;
}

/**
 * The pool a batch's chunk messages go to when the scheduler sends them: the pool the SLA
 * monitor last routed the batch to, or, for a batch it has not routed yet, core/policy's route
 * (`routeBatch`, through `decide`) for the batch on its own, from its deadline pressure on the
 * configured dedicated capacity and its priority. With time to spare that is Spot whatever the
 * priority: high priority escalates earlier (docs/policy.md), not at once.
 */
export function routeForChunks(
  deps: Pick<Deps, 'sla' | 'limits'>,
  batch: BatchRecord,
  nowMs: number,
): ChunkRoute {
  if (batch.route_pool) return { pool: batch.route_pool, fields: {} };
  const decision = decide(policyInput(deps, nowMs, batch.model ?? '', [toPolicyBatch(batch)], [batch]));
  const route = decision.routes[0];
  if (!route) return { pool: 'spot', fields: {} };
  return {
    pool: route.pool,
    fields: {
      route_pool: route.pool,
      escalation: { escalated: route.escalation.escalated, since_ms: route.escalation.sinceMs },
      at_risk: route.atRisk,
    },
  };
}
