import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  inBatches,
  MAX_PARTS,
  MIN_PART_SIZE,
  MiB,
  partsToSend,
  planParts,
} from '../../../cli/part-planner.js';

describe('planParts', () => {
  it('cuts a file in parts of the part size, the last one shorter, covering every byte once', () => {
    const size = 12 * MiB + 123;
    const plan = planParts(size, 5 * MiB);
    expect(plan).toEqual([
      { partNumber: 1, start: 0, end: 5 * MiB, bytes: 5 * MiB },
      { partNumber: 2, start: 5 * MiB, end: 10 * MiB, bytes: 5 * MiB },
      { partNumber: 3, start: 10 * MiB, end: size, bytes: 2 * MiB + 123 },
    ]);
  });

  it('makes one part of a file smaller than a part, and no empty last part on an exact multiple', () => {
    expect(planParts(10, MIN_PART_SIZE)).toEqual([{ partNumber: 1, start: 0, end: 10, bytes: 10 }]);
    const plan = planParts(10 * MiB, 5 * MiB);
    expect(plan.map((p) => p.bytes)).toEqual([5 * MiB, 5 * MiB]);
  });

  it('refuses an empty file, a part under S3’s 5 MiB and more than 10,000 parts', () => {
    expect(() => planParts(0, MIN_PART_SIZE)).toThrow(/empty/);
    expect(() => planParts(100, MIN_PART_SIZE - 1)).toThrow(/at least 5 MiB/);
    expect(() => planParts(MAX_PARTS * MIN_PART_SIZE + 1, MIN_PART_SIZE)).toThrow(
      /10000 parts: use a part size of at least 6 MiB/,
    );
    expect(planParts(MAX_PARTS * MIN_PART_SIZE, MIN_PART_SIZE)).toHaveLength(MAX_PARTS);
  });
});

describe('partsToSend', () => {
  const plan = planParts(12 * MiB, 5 * MiB);

  it('sends every part when S3 holds none', () => {
    expect(partsToSend(plan, []).map((p) => p.partNumber)).toEqual([1, 2, 3]);
  });

  it('skips the parts already in S3 with their planned size, and only those', () => {
    const present = [
      { part_number: 1, bytes: 5 * MiB },
      { part_number: 3, bytes: 2 * MiB },
    ];
    expect(partsToSend(plan, present).map((p) => p.partNumber)).toEqual([2]);
  });

  it('sends again a part whose size in S3 is not its planned size, and ignores numbers outside the plan', () => {
    const present = [
      { part_number: 1, bytes: 4 * MiB },
      { part_number: 2, bytes: 5 * MiB },
      { part_number: 7, bytes: 5 * MiB },
    ];
    expect(partsToSend(plan, present).map((p) => p.partNumber)).toEqual([1, 3]);
  });
});

describe('inBatches', () => {
  it('groups part numbers in calls of at most the given size', () => {
    const numbers = Array.from({ length: 2_345 }, (_, i) => i + 1);
    const batches = inBatches(numbers, 1_000);
    expect(batches.map((b) => b.length)).toEqual([1_000, 1_000, 345]);
    expect(batches.flat()).toEqual(numbers);
    expect(inBatches([], 1_000)).toEqual([]);
    expect(() => inBatches([1], 0)).toThrow();
  });
});

it('formats byte counts for people', () => {
  expect(formatBytes(512)).toBe('512 B');
  expect(formatBytes(1536)).toBe('1.5 KiB');
  expect(formatBytes(12 * MiB)).toBe('12.0 MiB');
  expect(formatBytes(3 * 1024 * MiB)).toBe('3.00 GiB');
});
