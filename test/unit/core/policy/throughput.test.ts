import { describe, expect, it } from 'vitest';
import {
  interruptionRate,
  type MeasuredThroughput,
  defaultPolicySettings as settings,
  spotIsCheaper,
  spotLossFraction,
  taskRate,
} from '../../../../core/policy/index.js';

const m = (pool: 'spot' | 'dedicated', rps: number, model = 'qwen'): MeasuredThroughput => ({
  pool,
  model,
  requestsPerSecondPerTask: rps,
});

describe('taskRate', () => {
  it.each<[string, MeasuredThroughput[], number, string]>([
    ['no throughput measured yet: the assumed rate', [], 5, 'assumed'],
    ['its own measurement', [m('spot', 12), m('dedicated', 9)], 12, 'measured'],
    ["the other pool's measurement for the same model", [m('dedicated', 9)], 9, 'other-pool'],
    ["another model's measurement does not count", [m('spot', 30, 'llama')], 5, 'assumed'],
    ['a zero measurement is ignored', [m('spot', 0), m('dedicated', 8)], 8, 'other-pool'],
    ['a NaN measurement is ignored', [m('spot', Number.NaN)], 5, 'assumed'],
  ])('%s', (_, measured, rps, source) => {
    expect(taskRate('spot', 'qwen', measured, settings)).toEqual({ requestsPerSecondPerTask: rps, source });
  });
});

describe('interruptionRate', () => {
  it.each<[string, number, number, number]>([
    ['no Spot time yet: the prior', 0, 0, 0.1],
    ['one interruption in the first minutes does not read as hundreds per hour', 1, 0.05, 1.1 / 1.05],
    ['many hours: close to what was observed', 20, 100, 20.1 / 101],
  ])('%s', (_, interruptions, spotTaskHours, expected) => {
    expect(interruptionRate({ interruptions, spotTaskHours }, settings)).toBeCloseTo(expected, 10);
  });
});

describe('spotLossFraction', () => {
  it.each([
    [0, 0],
    [0.2, (0.2 * 300) / 3600],
    [100, 0.95],
  ])('at %s interruptions per task-hour loses %s of the time', (rate, loss) => {
    expect(spotLossFraction(rate, settings)).toBeCloseTo(loss, 10);
  });
});

describe('spotIsCheaper', () => {
  it.each<[string, number, number, number, boolean]>([
    ['Spot at 37 % of On-Demand', 0.3, 0.8048, 0.1, true],
    ['price inversion: Spot dearer than On-Demand', 0.9, 0.8048, 0, false],
    ['equal prices: On-Demand, which is not interrupted', 0.8, 0.8, 0, false],
    ['cheap Spot, but interruptions eat the difference', 0.6, 0.8, 4, false],
  ])('%s', (_, spot, onDemand, rate, cheaper) => {
    expect(spotIsCheaper({ spotPerTaskHour: spot, onDemandPerTaskHour: onDemand }, rate, settings)).toBe(
      cheaper,
    );
  });
});
