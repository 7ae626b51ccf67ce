import { describe, expect, it } from 'vitest';
import { StartTurns } from '../../../../gpu-worker/src/start-turns.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('StartTurns', () => {
  it('starts the chunks of one batch one at a time, the lowest first, whatever order they claimed in', async () => {
    const turns = new StartTurns();
    const started: number[] = [];
    const releases = new Map<number, () => void>();
    for (const chunk of [5, 2, 7, 0, 3]) {
      void turns.take('t/b', chunk).then((release) => {
        started.push(chunk);
        releases.set(chunk, release);
      });
    }
    await tick();
    await tick();
    expect(started).toEqual([0]);
    for (const expected of [
      [0, 2],
      [0, 2, 3],
      [0, 2, 3, 5],
      [0, 2, 3, 5, 7],
    ]) {
      releases.get(started.at(-1) as number)?.();
      await tick();
      expect(started).toEqual(expected);
    }
  });

  it('starts chunks of different batches side by side', async () => {
    const turns = new StartTurns();
    const started: string[] = [];
    for (const [group, chunk] of [
      ['t/a', 1],
      ['t/b', 4],
      ['u/c', 0],
      ['t/a', 0],
    ] as const) {
      void turns.take(group, chunk).then(() => started.push(`${group}#${chunk}`));
    }
    await tick();
    await tick();
    expect(started.sort()).toEqual(['t/a#0', 't/b#4', 'u/c#0']);
  });

  it('lets a second release of the same turn go unnoticed, and frees the batch once its last chunk started', async () => {
    const turns = new StartTurns();
    const first = await turns.take('t/b', 0);
    const started: number[] = [];
    void turns.take('t/b', 1).then(() => started.push(1));
    void turns.take('t/b', 2).then(() => started.push(2));
    first();
    first();
    await tick();
    expect(started).toEqual([1]);
    expect((turns as unknown as { groups: Map<string, unknown> }).groups.size).toBe(1);
  });
});
