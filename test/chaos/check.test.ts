import { describe, expect, it } from 'vitest';
import {
  exactlyOnce,
  judge,
  leftovers,
  type Observed,
  type QueueDepth,
  type RunRecord,
  summarize,
  table,
} from './check.js';

const empty = (queue: string): QueueDepth => ({ queue, visible: 0, notVisible: 0, delayed: 0 });
const clean: Observed = {
  inputIds: ['a', 'b', 'c', 'd'],
  status: 'completed',
  requestCounts: { total: 4, completed: 3, failed: 1 },
  outputIds: ['a', 'c', 'd'],
  errorIds: ['b'],
  queues: [empty('q-spot'), empty('q-spot-dlq')],
};

describe('exactlyOnce', () => {
  it('finds lost, duplicated and unknown ids across both files', () => {
    expect(exactlyOnce(['a', 'b', 'c', 'd'], ['a', 'a', 'x'], ['c', 'b', 'c'])).toEqual({
      lost: ['d'],
      duplicated: ['a', 'c'],
      unexpected: ['x'],
    });
  });

  it('counts an id in the output and in the error file as duplicated', () => {
    expect(exactlyOnce(['a', 'b'], ['a', 'b'], ['b'])).toEqual({
      lost: [],
      duplicated: ['b'],
      unexpected: [],
    });
  });
});

describe('judge', () => {
  it('passes a terminal batch with each id once, matching counts and empty queues', () => {
    const v = judge(clean);
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ terminal: true, lost: [], duplicated: [], countsMatch: true, leftovers: [] });
  });

  it('fails a batch that has not ended', () => {
    const v = judge({ ...clean, status: 'in_progress' });
    expect(v.terminal).toBe(false);
    expect(v.problems).toEqual(['batch not terminal: in_progress']);
  });

  it('treats every terminal status as ended (the other checks still apply)', () => {
    for (const status of ['failed', 'expired', 'cancelled'])
      expect(judge({ ...clean, status }).terminal).toBe(true);
  });

  it('fails request_counts that disagree with the files, or are missing', () => {
    expect(judge({ ...clean, requestCounts: { total: 4, completed: 4, failed: 0 } }).countsMatch).toBe(false);
    expect(judge({ ...clean, requestCounts: { total: 5, completed: 3, failed: 1 } }).countsMatch).toBe(false);
    expect(judge({ ...clean, requestCounts: null }).problems).toEqual([
      'request_counts null, files say {"total":4,"completed":3,"failed":1}',
    ]);
  });

  it('reports lost and duplicated lines, with the counts the files imply', () => {
    const v = judge({
      ...clean,
      outputIds: ['a', 'c', 'c'],
      requestCounts: { total: 4, completed: 3, failed: 1 },
    });
    expect(v.lost).toEqual(['d']);
    expect(v.duplicated).toEqual(['c']);
    expect(v.countsMatch).toBe(true);
    expect(v.problems).toEqual(['1 lost: d', '1 duplicated: c']);
  });

  it('fails on any message left on a queue or a DLQ, in flight or delayed', () => {
    const queues = [
      { queue: 'q-spot', visible: 0, notVisible: 1, delayed: 0 },
      { queue: 'q-spot-dlq', visible: 2, notVisible: 0, delayed: 0 },
      { queue: 'q-finalizing', visible: 0, notVisible: 0, delayed: 1 },
      empty('q-scheduling'),
    ];
    expect(leftovers(queues).map((q) => q.queue)).toEqual(['q-spot', 'q-spot-dlq', 'q-finalizing']);
    expect(judge({ ...clean, queues }).problems).toEqual([
      'leftover in q-spot: 0 visible, 1 in flight, 0 delayed',
      'leftover in q-spot-dlq: 2 visible, 0 in flight, 0 delayed',
      'leftover in q-finalizing: 0 visible, 0 in flight, 1 delayed',
    ]);
  });

  it('shortens long id lists in its messages', () => {
    const ids = Array.from({ length: 8 }, (_, i) => `r-${i}`);
    const v = judge({ ...clean, inputIds: ids, outputIds: [], errorIds: [], requestCounts: null });
    expect(v.problems[0]).toBe('8 lost: r-0, r-1, r-2, r-3, r-4, …');
  });
});

const record = (over: Partial<RunRecord>): RunRecord => ({
  scenario: 's',
  run: 0,
  requests: 100,
  batchId: 'batch_1',
  status: 'completed',
  secondsToTerminal: 10,
  lost: 0,
  duplicated: 0,
  unexpected: 0,
  countsMatch: true,
  leftovers: 0,
  faults: {},
  problems: [],
  ...over,
});

describe('summarize and table', () => {
  it('adds up runs per scenario: terminal runs, losses, median and max time, faults', () => {
    const [a, b] = summarize([
      record({ scenario: 'a', secondsToTerminal: 4, faults: { kills: 2 } }),
      record({ scenario: 'a', run: 1, secondsToTerminal: 8, faults: { kills: 1, copies: 3 } }),
      record({ scenario: 'a', run: 2, secondsToTerminal: 30, lost: 2, problems: ['2 lost: x, y'] }),
      record({
        scenario: 'b',
        status: 'in_progress',
        secondsToTerminal: null,
        countsMatch: false,
        leftovers: 3,
        problems: ['batch not terminal: in_progress'],
      }),
    ]);
    expect(a).toMatchObject({
      scenario: 'a',
      runs: 3,
      terminal: 3,
      requests: 300,
      lost: 2,
      duplicated: 0,
      medianSeconds: 8,
      maxSeconds: 30,
      faults: { copies: 3, kills: 3 },
      clean: false,
    });
    expect(Object.keys(a?.faults ?? {})).toEqual(['copies', 'kills']);
    expect(b).toMatchObject({
      runs: 1,
      terminal: 0,
      countMismatches: 1,
      leftovers: 3,
      medianSeconds: null,
      maxSeconds: null,
    });
  });

  it('takes the mean of the middle two for an even number of runs', () => {
    const [s] = summarize([4, 6, 10, 12].map((t, run) => record({ run, secondsToTerminal: t })));
    expect(s?.medianSeconds).toBe(8);
  });

  it('prints one row per scenario and a total', () => {
    const text = table(
      summarize([record({ scenario: 'kill', faults: { 'SIGKILL spot': 2 } }), record({ scenario: 'dup' })]),
    );
    expect(text.split('\n')).toEqual([
      '| scenario | runs | terminal | requests | lost | duplicated | counts off | leftover msgs | time to terminal, median / max (s) | faults injected |',
      '| -------- | ---- | -------- | -------- | ---- | ---------- | ---------- | ------------- | ---------------------------------- | --------------- |',
      '| kill     | 1    | 1/1      | 100      | 0    | 0          | 0          | 0             | 10.0 / 10.0                        | SIGKILL spot 2  |',
      '| dup      | 1    | 1/1      | 100      | 0    | 0          | 0          | 0             | 10.0 / 10.0                        | —               |',
      '| **all**  | 2    | 2/2      | 200      | 0    | 0          | 0          | 0             |                                    |                 |',
    ]);
  });
});
