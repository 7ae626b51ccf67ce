import {
  admit,
  type Candidate,
  decide,
  defaultPolicySettings,
  type Escalation,
  interruptionRate,
  type PolicyInput,
  type PolicySettings,
  type Pool,
  type Prices,
  pickNext,
} from '../../core/policy/index.js';
import { choosePool, isAtRisk } from '../../core/sla/policy.js';
import type { SimBatch, SimChunk, SimPolicy, SimView } from './engine.js';

const active = (view: SimView) => view.batches.filter((b) => !b.rejected && b.finishS === undefined);

/**
 * Today's scaling: each pool runs one task per chunk waiting or running on it, up to its max
 * (ECS scaling on queue backlog), and scales in when idle.
 */
function backlogScaling(view: SimView): Record<Pool, number> {
  const out: Record<Pool, number> = { spot: 0, dedicated: 0 };
  for (const b of active(view)) {
    for (const c of b.chunks) {
      if (c.status === 'done') continue;
      out[c.forceDedicated ? 'dedicated' : (b.pools[0] ?? 'spot')] += 1;
    }
  }
  return {
    spot: Math.min(out.spot, view.settings.capacity.spot.max),
    dedicated: Math.min(out.dedicated, view.settings.capacity.dedicated.max),
  };
}

/** SQS order: the oldest message first. */
const fifo = (_pool: Pool, queued: readonly SimChunk[]) => queued[0];

/** Every chunk on On-Demand capacity: the cost reference. */
export const allDedicated: SimPolicy = {
  name: 'all-dedicated',
  admit: (b) => {
    b.pools = ['dedicated'];
  },
  control: backlogScaling,
  pick: fifo,
  onInterrupted: () => {},
};

/** Every chunk on Spot, interrupted chunks back to Spot. */
export const allSpot: SimPolicy = {
  name: 'all-spot',
  admit: (b) => {
    b.pools = ['spot'];
  },
  control: backlogScaling,
  pick: fifo,
  onInterrupted: () => {},
};

/** The original system: Spot, and a chunk that was interrupted goes to dedicated capacity. */
export const escalateAfterInterruption: SimPolicy = {
  name: 'escalate-after-interruption',
  admit: (b) => {
    b.pools = ['spot'];
  },
  control: backlogScaling,
  pick: fifo,
  onInterrupted: (c) => {
    c.forceDedicated = true;
  },
};

/**
 * Today's rule, with the code that runs it (core/sla/policy.ts): at scheduling, the batch's
 * total at SLA_ASSUMED_REQUESTS_PER_SECOND decides its pool; every minute the SLA monitor
 * escalates a batch at risk at its measured rate (at least the assumed one), for good; interrupted
 * chunks go to dedicated capacity (the worker's hand-off).
 */
export function todaysRule(sla = { SLA_RISK_RATIO: 0.5, SLA_ASSUMED_REQUESTS_PER_SECOND: 5 }): SimPolicy {
  const legacyPriority = (b: SimBatch) => (b.spec.priority === 'high' ? 'high' : 'normal');
  return {
    name: "today's rule",
    admit: (b, view) => {
      const atRisk = isAtRisk(
        {
          nowMs: view.nowS * 1000,
          deadlineMs: b.deadlineS * 1000,
          remainingRequests: b.spec.requests,
          requestsPerSecond: sla.SLA_ASSUMED_REQUESTS_PER_SECOND,
        },
        sla,
      );
      b.pools = [choosePool(legacyPriority(b), atRisk)];
    },
    control: (view) => {
      for (const b of active(view)) {
        if (b.pools[0] === 'dedicated') continue;
        const done = b.spec.requests - b.remainingRequests;
        const elapsedS = Math.max(1, view.nowS - b.spec.arrivalS);
        const atRisk = isAtRisk(
          {
            nowMs: view.nowS * 1000,
            deadlineMs: b.deadlineS * 1000,
            remainingRequests: b.remainingRequests,
            requestsPerSecond: Math.max(done / elapsedS, sla.SLA_ASSUMED_REQUESTS_PER_SECOND),
          },
          sla,
        );
        b.pools = [choosePool(legacyPriority(b), atRisk)];
      }
      return backlogScaling(view);
    },
    pick: fifo,
    onInterrupted: (c) => {
      c.forceDedicated = true;
    },
  };
}

const escalationOf = (b: SimBatch) => b.state.escalation as Escalation | undefined;

/** The policy input for the simulation's current state: the same figures the SLA monitor would gather. */
export function policyInput(
  view: SimView,
  settings: PolicySettings,
  prices: Prices = view.settings.prices,
): PolicyInput {
  const capacity = (pool: Pool) => {
    const live = view.tasks.filter((t) => t.pool === pool && t.state !== 'gone');
    const starting = live.filter((t) => t.state === 'starting');
    return {
      running: live.length - starting.length,
      pending: starting.length,
      // As the SLA monitor sees it: the start-up left of the tasks asked for last.
      ...(starting.length > 0
        ? { pendingReadySeconds: Math.max(...starting.map((t) => t.readyS - view.nowS)) }
        : {}),
      busy: live.filter((t) => t.state === 'busy').length,
      min: view.settings.capacity[pool].min,
      max: view.settings.capacity[pool].max,
    };
  };
  return {
    nowMs: view.nowS * 1000,
    model: view.settings.model,
    batches: active(view).map((b) => ({
      id: b.spec.id,
      tenant: b.spec.tenant,
      priority: b.spec.priority,
      createdMs: b.spec.arrivalS * 1000,
      deadlineMs: b.deadlineS * 1000,
      remainingRequests: b.remainingRequests,
      ...(escalationOf(b) ? { escalation: escalationOf(b) } : {}),
    })),
    measured: view.measured(),
    interruptionsPerTaskHour: interruptionRate(view.spotHistory(), settings),
    prices,
    capacity: { spot: capacity('spot'), dedicated: capacity('dedicated') },
    settings,
  };
}

/**
 * core/policy driving the simulation: admission at arrival, `decide` every minute and at each
 * arrival (routes, escalation state, desired tasks, shares), `pickNext` for every free task.
 * Interrupted chunks go back to their batch's pool.
 */
export function corePolicy(
  name = 'new policy',
  overrides: Partial<PolicySettings> = {},
  opts: { foresight?: boolean; prices?: Prices } = {},
): SimPolicy {
  const settings: PolicySettings = { ...defaultPolicySettings, ...overrides };
  const input = (view: SimView) => policyInput(view, settings, opts.prices ?? view.settings.prices);
  let shares: Readonly<Record<Pool, ReadonlyMap<string, number>>> = { spot: new Map(), dedicated: new Map() };
  return {
    name,
    ...(opts.foresight ? { foresight: true } : {}),
    admit: (b, view) => {
      const now = input(view);
      const candidate = now.batches.find((x) => x.id === b.spec.id);
      if (!candidate) return;
      const verdict = admit(candidate, { ...now, batches: now.batches.filter((x) => x.id !== b.spec.id) });
      if (!verdict.accepted) b.rejected = true;
      else if (verdict.warning) b.warning = verdict.warning;
    },
    control: (view) => {
      const decision = decide(input(view));
      const byId = new Map(view.batches.map((b) => [b.spec.id, b]));
      for (const r of decision.routes) {
        const b = byId.get(r.batchId);
        if (!b) continue;
        b.pools = r.pools;
        b.state.escalation = r.escalation;
        // Urgent on the pool that answers for its deadline; where it is only helped, a fair share.
        b.state.urgentOn = r.escalation.escalated ? r.pool : undefined;
      }
      shares = decision.shares;
      return { ...decision.desiredTasks };
    },
    pick: (pool, queued, view) => {
      const first = new Map<string, SimChunk>();
      for (const c of queued) if (!first.has(c.batchId)) first.set(c.batchId, c);
      const byId = new Map(view.batches.map((b) => [b.spec.id, b]));
      const candidates: Candidate[] = [];
      for (const id of first.keys()) {
        const b = byId.get(id);
        if (!b) continue;
        candidates.push({
          batchId: id,
          share: shares[pool].get(id) ?? 1e-6,
          recentRequests: view.startedSince(id, pool, view.nowS - settings.fairShareWindowSeconds),
          nextRequests: first.get(id)?.requests ?? 0,
          urgent: b.state.urgentOn === pool,
          deadlineMs: b.deadlineS * 1000,
          createdMs: b.spec.arrivalS * 1000,
        });
      }
      const id = pickNext(candidates);
      return id === undefined ? undefined : first.get(id);
    },
    onInterrupted: () => {},
  };
}

/**
 * The oracle: the same policy code, told the interruptions in advance. A Spot task never starts a
 * chunk that its interruption would cut (no work is lost, no interruption loss is priced in), and
 * with nothing to fear from Spot it escalates later, for every priority (pressure 0.9: the margin
 * that a one-minute control loop and a chunk's granularity still need).
 */
export function oracle(overrides: Partial<PolicySettings> = {}): SimPolicy {
  const at = { low: 0.9, normal: 0.9, high: 0.9 };
  return corePolicy(
    'oracle',
    {
      ...overrides,
      escalateAt: at,
      deescalateAt: { low: 0.5, normal: 0.5, high: 0.5 },
      secondsLostPerInterruption: 0,
    },
    { foresight: true },
  );
}

/**
 * Every chunk on dedicated capacity, but scaled, ordered and admitted by core/policy: the policy
 * is shown a Spot price above On-Demand's (its price-inversion path), so it uses no Spot at all.
 * Billed at the real prices. The reference that separates what Spot saves from what scaling saves.
 */
export function dedicatedWithPolicy(overrides: Partial<PolicySettings> = {}): SimPolicy {
  return corePolicy('dedicated, policy scaling', overrides, {
    prices: { spotPerTaskHour: Number.MAX_VALUE, onDemandPerTaskHour: 1 },
  });
}
