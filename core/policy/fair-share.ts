import type { PolicyBatch, PolicySettings } from './types.js';

/**
 * Each batch's share of a pool: tenants first, each weighted by the highest priority among its
 * batches, then a tenant's batches by their priorities. One tenant's many (or huge) batches do
 * not crowd out another tenant, and within a tenant high priority goes first. Shares sum to 1.
 */
export function fairShares(
  batches: readonly Pick<PolicyBatch, 'id' | 'tenant' | 'priority'>[],
  settings: Pick<PolicySettings, 'priorityWeights'>,
): Map<string, number> {
  const w = settings.priorityWeights;
  const byTenant = new Map<string, Pick<PolicyBatch, 'id' | 'tenant' | 'priority'>[]>();
  for (const b of batches) byTenant.set(b.tenant, [...(byTenant.get(b.tenant) ?? []), b]);
  const tenantWeight = new Map<string, number>();
  for (const [tenant, list] of byTenant)
    tenantWeight.set(tenant, Math.max(...list.map((b) => w[b.priority])));
  const totalTenants = [...tenantWeight.values()].reduce((a, b) => a + b, 0);
  const shares = new Map<string, number>();
  for (const [tenant, list] of byTenant) {
    const inside = list.reduce((a, b) => a + w[b.priority], 0);
    for (const b of list) {
      shares.set(b.id, ((tenantWeight.get(tenant) ?? 0) / totalTenants) * (w[b.priority] / inside));
    }
  }
  return shares;
}

/**
 * How many chunk messages a batch of `priority` keeps queued (core/chunks/dispatch.ts), from the
 * deployment's window for a normal batch: scaled by its priority's weight against normal's (with
 * the default weights, low keeps half, high twice as many), at least one. A queue's order is the
 * same for everyone, so a batch's share of the workers' free slots follows how many of its
 * chunks wait there. 0 (every chunk at once) stays 0.
 */
export function priorityWindow(
  window: number,
  priority: PolicyBatch['priority'],
  settings: Pick<PolicySettings, 'priorityWeights'>,
): number {
  if (window <= 0) return 0;
  const w = settings.priorityWeights;
  return Math.max(1, Math.round((window * w[priority]) / w.normal));
}

/** A batch with work queued for a pool, as `pickNext` weighs it. */
export interface Candidate {
  readonly batchId: string;
  /** Its fair share (`fairShares`). */
  readonly share: number;
  /**
   * Its recent service on the pool: requests of its chunks started there in the last
   * `fairShareWindowSeconds` (those in flight included).
   */
  readonly recentRequests: number;
  /** Requests of the chunk it would start next. */
  readonly nextRequests: number;
  /**
   * Escalated for its deadline and this pool answers for it (its route's `pool`): served before
   * the fair shares, earliest deadline first. On a pool that only helps it, not urgent.
   */
  readonly urgent: boolean;
  readonly deadlineMs: number;
  readonly createdMs: number;
}

/**
 * Which batch a free task of a pool serves next: urgent batches first, earliest deadline first
 * (the order deadline pressure assumes); then the batch whose recent service, with the chunk it
 * would start, is smallest for its share: (recent + next) / share, a weighted fair queue over a
 * sliding window. A 10-request batch arriving behind a 1M-request one has had no service and
 * gets the next free task, not the one after a million requests; two large batches alternate in
 * proportion to their shares.
 */
export function pickNext(candidates: readonly Candidate[]): string | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) {
    if (!best || before(c, best)) best = c;
  }
  return best?.batchId;
}

const load = (c: Candidate) => (c.recentRequests + c.nextRequests) / Math.max(c.share, Number.MIN_VALUE);

function before(a: Candidate, b: Candidate): boolean {
  if (a.urgent !== b.urgent) return a.urgent;
  if (!a.urgent) {
    const la = load(a);
    const lb = load(b);
    if (la !== lb) return la < lb;
  }
  if (a.deadlineMs !== b.deadlineMs) return a.deadlineMs < b.deadlineMs;
  if (a.createdMs !== b.createdMs) return a.createdMs < b.createdMs;
  return a.batchId < b.batchId;
}
