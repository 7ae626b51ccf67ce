import { decodeTime } from 'ulidx';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIdSource, createSequentialIdSource } from '../../../core/ids.js';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0, 0);
const ULID = '[0-9a-hjkmnp-tv-z]{26}';

afterEach(() => {
  vi.useRealTimers();
});

describe('createIdSource', () => {
  it('gives every kind of id its OpenAI-style prefix', () => {
    const ids = createIdSource(() => T0);
    expect(ids.fileId()).toMatch(new RegExp(`^file-${ULID}$`));
    expect(ids.batchId()).toMatch(new RegExp(`^batch_${ULID}$`));
    expect(ids.requestLineId()).toMatch(/^batch_req_[0-9a-f]{32}$/);
    expect(ids.requestId()).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('embeds the creation time in file and batch ids', () => {
    const ids = createIdSource(() => T0);
    expect(decodeTime(ids.batchId().slice('batch_'.length).toUpperCase())).toBe(T0);
    expect(decodeTime(ids.fileId().slice('file-'.length).toUpperCase())).toBe(T0);
  });

  it('sorts ids created later after earlier ones, as strings', () => {
    let now = T0;
    const ids = createIdSource(() => now);
    const made: string[] = [];
    for (let i = 0; i < 50; i++) {
      made.push(ids.batchId());
      now += i % 3 === 0 ? 0 : 1 + i * 997; // same millisecond sometimes, big jumps other times
    }
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(made.length);
  });

  it('keeps ids increasing within one millisecond', () => {
    const ids = createIdSource(() => T0);
    const made = Array.from({ length: 1_000 }, () => ids.fileId());
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(1_000);
  });

  it('orders ids from different sources (different containers) by their time', () => {
    const early = createIdSource(() => T0).batchId();
    const late = createIdSource(() => T0 + 1).batchId();
    expect(late > early).toBe(true);
  });

  it('orders ids across a year boundary and across decades', () => {
    const a = createIdSource(() => Date.UTC(2025, 11, 31, 23, 59, 59, 999)).batchId();
    const b = createIdSource(() => Date.UTC(2026, 0, 1)).batchId();
    const c = createIdSource(() => Date.UTC(2040, 0, 1)).batchId();
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });

  it('uses the wall clock by default', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    const ids = createIdSource();
    const first = ids.batchId();
    vi.setSystemTime(T0 + 60_000);
    const second = ids.batchId();
    expect(decodeTime(first.slice(6).toUpperCase())).toBe(T0);
    expect(decodeTime(second.slice(6).toUpperCase())).toBe(T0 + 60_000);
    expect(second > first).toBe(true);
  });

  it('never repeats a request id', () => {
    const ids = createIdSource(() => T0);
    const made = new Set(Array.from({ length: 1_000 }, () => ids.requestId()));
    expect(made.size).toBe(1_000);
  });
});

describe('createSequentialIdSource', () => {
  it('counts across kinds, with each kind prefixed', () => {
    const ids = createSequentialIdSource();
    expect([ids.fileId(), ids.batchId(), ids.requestLineId(), ids.requestId(), ids.batchId()]).toEqual([
      'file-000001',
      'batch_000002',
      'batch_req_000003',
      'req_000004',
      'batch_000005',
    ]);
  });

  it('starts over for each new source', () => {
    expect(createSequentialIdSource().fileId()).toBe(createSequentialIdSource().fileId());
  });
});
