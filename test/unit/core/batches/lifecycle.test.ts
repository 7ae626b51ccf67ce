import { describe, expect, it } from 'vitest';
import {
  cancelOutcome,
  canTransition,
  isTerminal,
  predecessorsOf,
  TERMINAL_STATUSES,
  timestampField,
} from '../../../../core/batches/lifecycle.js';
import type { BatchStatus } from '../../../../core/openai/schemas.js';

const ALL: BatchStatus[] = [
  'validating',
  'failed',
  'in_progress',
  'finalizing',
  'completed',
  'expired',
  'cancelling',
  'cancelled',
];

/** OpenAI's documented status machine. */
const EXPECTED_EDGES: [BatchStatus, BatchStatus][] = [
  ['validating', 'in_progress'],
  ['validating', 'failed'],
  ['validating', 'cancelling'],
  ['in_progress', 'finalizing'],
  ['in_progress', 'cancelling'],
  ['finalizing', 'completed'],
  ['finalizing', 'expired'],
  ['cancelling', 'cancelled'],
];

describe('canTransition', () => {
  it('allows exactly the documented transitions and no others', () => {
    const allowed = ALL.flatMap((from) =>
      ALL.filter((to) => canTransition(from, to)).map((to) => [from, to] as [BatchStatus, BatchStatus]),
    );
    expect(allowed.sort()).toEqual([...EXPECTED_EDGES].sort());
  });

  it('never allows staying in the same status', () => {
    for (const s of ALL) expect(canTransition(s, s)).toBe(false);
  });

  it('never leaves a terminal status', () => {
    for (const from of TERMINAL_STATUSES) for (const to of ALL) expect(canTransition(from, to)).toBe(false);
  });
});

describe('predecessorsOf', () => {
  it.each<[BatchStatus, BatchStatus[]]>([
    ['validating', []],
    ['in_progress', ['validating']],
    ['failed', ['validating']],
    ['finalizing', ['in_progress']],
    ['completed', ['finalizing']],
    ['expired', ['finalizing']],
    ['cancelling', ['validating', 'in_progress']],
    ['cancelled', ['cancelling']],
  ])('%s can be reached from %j', (to, from) => {
    expect(predecessorsOf(to).sort()).toEqual([...from].sort());
  });

  it('agrees with canTransition for every pair', () => {
    for (const to of ALL)
      for (const from of ALL) {
        expect(predecessorsOf(to).includes(from)).toBe(canTransition(from, to));
      }
  });
});

describe('isTerminal', () => {
  it('is true for failed, completed, expired and cancelled only', () => {
    expect(ALL.filter(isTerminal).sort()).toEqual(['cancelled', 'completed', 'expired', 'failed']);
  });
});

describe('timestampField', () => {
  it('names a distinct *_at field for every status, created_at for validating', () => {
    expect(timestampField.validating).toBe('created_at');
    for (const s of ALL.filter((x) => x !== 'validating')) expect(timestampField[s]).toBe(`${s}_at`);
    expect(new Set(Object.values(timestampField)).size).toBe(ALL.length);
  });
});

describe('cancelOutcome', () => {
  it.each<[BatchStatus, ReturnType<typeof cancelOutcome>]>([
    ['validating', 'cancel'],
    ['in_progress', 'cancel'],
    ['cancelling', 'already-cancelling'],
    ['cancelled', 'already-cancelling'],
    ['finalizing', 'conflict'],
    ['completed', 'conflict'],
    ['failed', 'conflict'],
    ['expired', 'conflict'],
  ])('cancelling a %s batch: %s', (status, outcome) => {
    expect(cancelOutcome(status)).toBe(outcome);
  });
});
