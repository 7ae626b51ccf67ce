import { describe, expect, it } from 'vitest';
import { choosePool, isAtRisk, type RiskInput } from '../../../../core/sla/policy.js';

const NOW = 1_700_000_000_000;
const settings = { SLA_RISK_RATIO: 0.5 };

/** 1,000 s left; at 10 requests/s, 5,000 requests take exactly half of it. */
const input = (overrides: Partial<RiskInput> = {}): RiskInput => ({
  nowMs: NOW,
  deadlineMs: NOW + 1_000_000,
  remainingRequests: 5_000,
  requestsPerSecond: 10,
  ...overrides,
});

describe('isAtRisk', () => {
  it('is not at risk when the remaining work needs exactly SLA_RISK_RATIO of the time left', () => {
    expect(isAtRisk(input(), settings)).toBe(false);
  });

  it('is at risk as soon as the remaining work needs more than SLA_RISK_RATIO of the time left', () => {
    expect(isAtRisk(input({ remainingRequests: 5_001 }), settings)).toBe(true);
  });

  it('is not at risk with plenty of time', () => {
    expect(isAtRisk(input({ remainingRequests: 10 }), settings)).toBe(false);
  });

  it('follows the configured ratio', () => {
    expect(isAtRisk(input({ remainingRequests: 8_000 }), { SLA_RISK_RATIO: 0.9 })).toBe(false);
    expect(isAtRisk(input({ remainingRequests: 8_000 }), { SLA_RISK_RATIO: 0.7 })).toBe(true);
  });

  it('becomes at risk as time passes with the same work left', () => {
    const work = { remainingRequests: 1_000, requestsPerSecond: 10 };
    expect(isAtRisk(input({ ...work, nowMs: NOW }), settings)).toBe(false);
    // 200 s left: 100 s of work is exactly half.
    expect(isAtRisk(input({ ...work, nowMs: NOW + 800_000 }), settings)).toBe(false);
    expect(isAtRisk(input({ ...work, nowMs: NOW + 800_001 }), settings)).toBe(true);
  });

  it('is at risk at and past the deadline', () => {
    expect(isAtRisk(input({ nowMs: NOW + 1_000_000 }), settings)).toBe(true);
    expect(isAtRisk(input({ nowMs: NOW + 2_000_000, remainingRequests: 1 }), settings)).toBe(true);
  });

  it('is at risk when there is work but no throughput at all', () => {
    expect(isAtRisk(input({ requestsPerSecond: 0, remainingRequests: 1 }), settings)).toBe(true);
  });

  it('is not at risk with no work left before the deadline', () => {
    expect(isAtRisk(input({ remainingRequests: 0 }), settings)).toBe(false);
    expect(isAtRisk(input({ remainingRequests: 0, requestsPerSecond: 0 }), settings)).toBe(false);
  });
});

describe('choosePool', () => {
  it.each<['normal' | 'high', boolean, 'spot' | 'dedicated']>([
    ['normal', false, 'spot'],
    ['normal', true, 'dedicated'],
    ['high', false, 'dedicated'],
    ['high', true, 'dedicated'],
  ])('a %s priority batch (at risk: %s) runs on %s', (priority, atRisk, pool) => {
    expect(choosePool(priority, atRisk)).toBe(pool);
  });
});
