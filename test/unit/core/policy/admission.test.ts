import { describe, expect, it } from 'vitest';
import {
  admit,
  defaultPolicySettings,
  formatDuration,
  type PolicyBatch,
  type PolicyInput,
} from '../../../../core/policy/index.js';

const NOW = 1_000_000_000;
const HOUR = 3_600_000;
const batch = (id: string, remainingRequests: number, windowMs: number): PolicyBatch => ({
  id,
  tenant: 't',
  priority: 'normal',
  createdMs: NOW,
  deadlineMs: NOW + windowMs,
  remainingRequests,
});
/** 6 dedicated tasks at 10 requests/s (measured), 300 s start-up: 216,000 requests an hour at most. */
const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  nowMs: NOW,
  model: 'qwen',
  batches: [],
  measured: [{ pool: 'dedicated', model: 'qwen', requestsPerSecondPerTask: 10 }],
  interruptionsPerTaskHour: 0.1,
  prices: { spotPerTaskHour: 0.3, onDemandPerTaskHour: 0.8 },
  capacity: {
    spot: { running: 0, pending: 0, min: 0, max: 20 },
    dedicated: { running: 0, pending: 0, min: 0, max: 6 },
  },
  settings: { ...defaultPolicySettings, taskStartupSeconds: 300 },
  ...over,
});

describe('admit', () => {
  it.each<[string, PolicyBatch, Partial<PolicyInput>, boolean]>([
    ['fits on the largest dedicated capacity', batch('n', 100_000, HOUR), {}, true],
    ['exactly what the capacity does after start-up', batch('n', 198_000, HOUR), {}, true],
    ['more than it can do in the window', batch('n', 300_000, HOUR), {}, false],
    [
      'no throughput measured yet: judged at the assumed 5 requests/s',
      batch('n', 150_000, HOUR),
      { measured: [] },
      false,
    ],
    [
      'zero dedicated capacity',
      batch('n', 10, HOUR),
      {
        capacity: {
          spot: { running: 0, pending: 0, min: 0, max: 20 },
          dedicated: { running: 0, pending: 0, min: 0, max: 0 },
        },
      },
      true, // with a warning: Spot only, nothing guaranteed (below)
    ],
    ['deadline already passed', batch('n', 10, -1), {}, false],
    [
      'capacity committed to a batch due earlier',
      batch('n', 100_000, HOUR),
      { batches: [batch('old', 150_000, HOUR / 2)] },
      false,
    ],
    [
      'room beside a batch due later',
      batch('n', 100_000, HOUR),
      { batches: [batch('old', 150_000, 24 * HOUR)] },
      true,
    ],
    ['nothing to do', batch('n', 0, HOUR), {}, true],
  ])('%s', (_, candidate, over, accepted) => {
    expect(admit(candidate, input(over)).accepted).toBe(accepted);
  });

  it('accepts every batch of a Spot-only deployment with a warning, even when it refuses the rest', () => {
    const spotOnly = {
      capacity: {
        spot: { running: 0, pending: 0, min: 0, max: 20 },
        dedicated: { running: 0, pending: 0, min: 0, max: 0 },
      },
    };
    const got = admit(batch('n', 10, HOUR), input(spotOnly));
    expect(got).toEqual({ accepted: true, warning: expect.stringMatching(/Spot only/) });
  });

  it('says why, with the figures', () => {
    const verdict = admit(batch('n', 300_000, HOUR), input());
    expect(verdict).toEqual({
      accepted: false,
      reason:
        '300000 requests need about 1h 28m on all 6 dedicated task(s) for model qwen (10 requests/s each, after 300 s start-up), more than the 1h left in the completion window.',
    });
  });

  it("does not refuse a newcomer for other batches' lateness", () => {
    // The old batch cannot make its own window whatever happens; the new one, due later, fits after it.
    const verdict = admit(batch('n', 10_000, 24 * HOUR), input({ batches: [batch('old', 1_000_000, HOUR)] }));
    expect(verdict.accepted).toBe(true);
  });

  it("accepts with the reason as a warning when the deployment says 'warn'", () => {
    const verdict = admit(
      batch('n', 300_000, HOUR),
      input({ settings: { ...defaultPolicySettings, admission: 'warn' } }),
    );
    expect(verdict.accepted).toBe(true);
    expect(verdict).toHaveProperty('warning', expect.stringContaining('more than the 1h left'));
  });
});

describe('formatDuration', () => {
  it.each([
    [45, '45s'],
    [720, '12m'],
    [3600, '1h'],
    [5280, '1h 28m'],
    [Number.POSITIVE_INFINITY, 'forever'],
  ])('%s s is %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });
});
