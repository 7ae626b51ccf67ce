import { describe, expect, it } from 'vitest';
import {
  type Escalation,
  nextEscalation,
  type PolicyBatch,
  type RouteContext,
  routeBatch,
  defaultPolicySettings as settings,
} from '../../../../core/policy/index.js';

const NOW = 1_000_000_000;
const MIN = 60_000;
const batch = (over: Partial<PolicyBatch> = {}): PolicyBatch => ({
  id: 'b',
  tenant: 't',
  priority: 'normal',
  createdMs: NOW - 60 * MIN,
  deadlineMs: NOW + 60 * MIN,
  remainingRequests: 1000,
  ...over,
});
const ctx = (over: Partial<RouteContext> = {}): RouteContext => ({
  nowMs: NOW,
  pressure: 0.1,
  spotIsCheaper: true,
  spotMax: 20,
  dedicatedMax: 6,
  settings,
  ...over,
});
const on = (sinceMinAgo: number): Escalation => ({ escalated: true, sinceMs: NOW - sinceMinAgo * MIN });
const off = (sinceMinAgo: number): Escalation => ({ escalated: false, sinceMs: NOW - sinceMinAgo * MIN });

describe('nextEscalation (hysteresis)', () => {
  // normal priority: escalate at 0.7, de-escalate under 0.35 after 10 minutes escalated.
  it.each<[string, Escalation | undefined, number, PolicyBatch['priority'], boolean]>([
    ['a new batch with slack stays on Spot', undefined, 0.2, 'normal', false],
    ['escalates at the threshold', undefined, 0.7, 'normal', true],
    ['between the thresholds, a Spot batch stays on Spot', off(30), 0.6, 'normal', false],
    ['between the thresholds, an escalated batch stays escalated', on(30), 0.4, 'normal', true],
    ['de-escalates under the lower threshold after the dwell', on(30), 0.3, 'normal', false],
    ['does not de-escalate before the dwell, however low the pressure', on(5), 0, 'normal', true],
    ['high priority escalates earlier (0.5)', undefined, 0.55, 'high', true],
    ['low priority waits longer (0.8)', undefined, 0.75, 'low', false],
    [
      'infinite pressure (no fallback capacity) escalates',
      undefined,
      Number.POSITIVE_INFINITY,
      'normal',
      true,
    ],
  ])('%s', (_, was, pressure, priority, escalated) => {
    const next = nextEscalation(
      { priority, deadlineMs: NOW + 60 * MIN, ...(was ? { escalation: was } : {}) },
      { nowMs: NOW, pressure, settings },
    );
    expect(next.escalated).toBe(escalated);
  });

  it('keeps the time of the last change while the state holds, and moves it on a change', () => {
    expect(
      nextEscalation(
        { priority: 'normal', deadlineMs: NOW + MIN, escalation: on(30) },
        { nowMs: NOW, pressure: 0.5, settings },
      ),
    ).toEqual(on(30));
    expect(
      nextEscalation(
        { priority: 'normal', deadlineMs: NOW + MIN, escalation: on(30) },
        { nowMs: NOW, pressure: 0.1, settings },
      ),
    ).toEqual(off(0));
  });

  it('a batch past its deadline escalates and never de-escalates', () => {
    const past = { priority: 'normal' as const, deadlineMs: NOW - MIN };
    expect(nextEscalation(past, { nowMs: NOW, pressure: 0, settings }).escalated).toBe(true);
    expect(
      nextEscalation({ ...past, escalation: on(60) }, { nowMs: NOW, pressure: 0, settings }).escalated,
    ).toBe(true);
  });

  it('does not flap when the pressure oscillates around the escalation threshold', () => {
    let state: Escalation | undefined;
    const changes: number[] = [];
    for (let minute = 0; minute < 60; minute++) {
      const pressure = minute % 2 === 0 ? 0.72 : 0.45;
      const next = nextEscalation(
        { priority: 'normal', deadlineMs: NOW + 120 * MIN, ...(state ? { escalation: state } : {}) },
        { nowMs: NOW + minute * MIN, pressure, settings },
      );
      if (next.escalated !== (state?.escalated ?? false)) changes.push(minute);
      state = next;
    }
    expect(changes).toEqual([0]);
  });

  it('changes state at most once per dwell when the pressure swings across both thresholds', () => {
    let state: Escalation | undefined;
    let changes = 0;
    for (let minute = 0; minute < 60; minute++) {
      const pressure = minute % 2 === 0 ? 0.9 : 0.1;
      const next = nextEscalation(
        { priority: 'normal', deadlineMs: NOW + 120 * MIN, ...(state ? { escalation: state } : {}) },
        { nowMs: NOW + minute * MIN, pressure, settings },
      );
      if (next.escalated !== (state?.escalated ?? false)) changes += 1;
      state = next;
    }
    // Escalated at minute 0; each de-escalation needs 10 minutes escalated first.
    expect(changes).toBeLessThanOrEqual(1 + 2 * Math.ceil(60 / 10));
    expect(changes).toBeGreaterThan(1);
  });
});

describe('routeBatch', () => {
  it.each<[string, Partial<PolicyBatch>, Partial<RouteContext>, string, string, boolean]>([
    ['slack: Spot', {}, {}, 'spot', 'spot', false],
    ['pressure at the threshold: dedicated', {}, { pressure: 0.8 }, 'dedicated', 'deadline', true],
    [
      'deadline already passed: dedicated',
      { deadlineMs: NOW - 1 },
      { pressure: Number.POSITIVE_INFINITY },
      'dedicated',
      'deadline-passed',
      true,
    ],
    [
      'price inversion: dedicated, not at risk',
      {},
      { spotIsCheaper: false },
      'dedicated',
      'spot-not-cheaper',
      false,
    ],
    ['no Spot capacity: dedicated', {}, { spotMax: 0 }, 'dedicated', 'no-spot-capacity', false],
    [
      'escalation due without dedicated capacity: Spot, at risk',
      {},
      { pressure: Number.POSITIVE_INFINITY, dedicatedMax: 0 },
      'spot',
      'no-dedicated-capacity',
      true,
    ],
    [
      'price inversion without dedicated capacity: Spot',
      {},
      { spotIsCheaper: false, dedicatedMax: 0 },
      'spot',
      'spot',
      false,
    ],
  ])('%s', (_, b, c, pool, reason, atRisk) => {
    const r = routeBatch(batch(b), ctx(c));
    expect({ pool: r.pool, reason: r.reason, atRisk: r.atRisk }).toEqual({ pool, reason, atRisk });
    expect(r.pools[0]).toBe(pool);
  });

  it.each<[string, Partial<RouteContext>, string[]]>([
    ['on Spot: Spot only', {}, ['spot']],
    ['escalated: dedicated, and Spot helps', { pressure: 0.9 }, ['dedicated', 'spot']],
    [
      'escalated, Spot not helping: dedicated only',
      { pressure: 0.9, settings: { ...settings, spotHelpsEscalated: false } },
      ['dedicated'],
    ],
    [
      'price inversion: dedicated only, Spot does not help',
      { pressure: 0.9, spotIsCheaper: false },
      ['dedicated'],
    ],
  ])('pools: %s', (_, c, pools) => {
    expect(routeBatch(batch(), ctx(c)).pools).toEqual(pools);
  });
});
