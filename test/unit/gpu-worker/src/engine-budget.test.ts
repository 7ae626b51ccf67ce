import { describe, expect, it } from 'vitest';
import { EngineBudget } from '../../../../gpu-worker/src/engine-budget.js';

/** A task that stays running until `finish()` is called; `started` records the order. */
function gate(started: string[], name: string) {
  let finish: () => void = () => {};
  const done = new Promise<void>((r) => {
    finish = r;
  });
  return {
    task: async () => {
      started.push(name);
      await done;
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('EngineBudget', () => {
  it('never runs more than its size at once, and starts waiting work as slots free', async () => {
    const budget = new EngineBudget(3);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        budget.run(`g${i % 2}`, i, async () => {
          running += 1;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 1 + (i % 3)));
          running -= 1;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(budget.peak).toBe(3);
    expect([budget.inFlight, budget.queued]).toEqual([0, 0]);
  });

  it('serves waiting groups in turn (a batch that arrives late is not stuck behind a long one), first come first served within a group', async () => {
    const budget = new EngineBudget(1);
    const started: string[] = [];
    const first = gate(started, 'big-0');
    const gates = [first];
    const runs = [budget.run('big', 0, first.task)];
    for (let i = 1; i <= 3; i++) {
      const g = gate(started, `big-${i}`);
      gates.push(g);
      runs.push(budget.run('big', 0, g.task));
    }
    for (let i = 0; i < 2; i++) {
      const g = gate(started, `small-${i}`);
      gates.push(g);
      runs.push(budget.run('small', 0, g.task));
    }
    expect(budget.queued).toBe(5);
    for (let i = 0; i < gates.length; i++) {
      await tick();
      for (const g of gates) g.finish();
    }
    await Promise.all(runs);
    expect(started).toEqual(['big-0', 'big-1', 'small-0', 'big-2', 'small-1', 'big-3']);
  });

  it('within a group, serves the lowest lane first (the chunk taken first finishes first), whatever the arrival order', async () => {
    const budget = new EngineBudget(1);
    const started: string[] = [];
    const gates: ReturnType<typeof gate>[] = [];
    const runs: Promise<void>[] = [];
    const add = (lane: number, name: string) => {
      const g = gate(started, name);
      gates.push(g);
      runs.push(budget.run('batch', lane, g.task));
    };
    add(1, 'c1-a'); // runs at once
    add(2, 'c2-a');
    add(1, 'c1-b');
    add(2, 'c2-b');
    add(1, 'c1-c');
    for (let i = 0; i < gates.length; i++) {
      await tick();
      for (const g of gates) g.finish();
    }
    await Promise.all(runs);
    expect(started).toEqual(['c1-a', 'c1-b', 'c1-c', 'c2-a', 'c2-b']);
    // A lane that ran dry and gets more work later keeps its place.
    const later: string[] = [];
    const g1 = gate(later, 'c2-x');
    const first = budget.run('batch', 2, g1.task);
    const g2 = gate(later, 'c3-x');
    const second = budget.run('batch', 3, g2.task);
    const g3 = gate(later, 'c2-y');
    const third = budget.run('batch', 2, g3.task);
    for (let i = 0; i < 3; i++) {
      await tick();
      for (const g of [g1, g2, g3]) g.finish();
    }
    await Promise.all([first, second, third]);
    expect(later).toEqual(['c2-x', 'c2-y', 'c3-x']);
  });

  it('frees the slot when a task fails', async () => {
    const budget = new EngineBudget(1);
    await expect(budget.run('g', 0, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await budget.run('g', 0, async () => 'next')).toBe('next');
    expect(budget.inFlight).toBe(0);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new EngineBudget(0)).toThrow(/positive integer/);
    expect(() => new EngineBudget(1.5)).toThrow(/positive integer/);
  });
});

describe('EngineBudget back-pressure (AIMD)', () => {
  it('halves the window on an overload, once per burst, never below 1, and grows it by one per window of successes up to its size', () => {
    let now = 0;
    const budget = new EngineBudget(16, { now: () => now, cutEveryMs: 1_000 });
    expect(budget.limit).toBe(16);
    budget.overloaded();
    budget.overloaded(); // the same burst: requests already in flight answer 429 too
    expect(budget.limit).toBe(8);
    now += 1_000;
    budget.overloaded();
    expect(budget.limit).toBe(4);
    for (let i = 0; i < 4; i++) budget.succeeded();
    expect(budget.limit).toBe(5);
    for (let i = 0; i < 5; i++) budget.succeeded();
    expect(budget.limit).toBe(6);
    for (let t = 0; t < 5; t++) {
      now += 1_000;
      budget.overloaded();
    }
    expect(budget.limit).toBe(1);
    for (let i = 0; i < 10_000; i++) budget.succeeded();
    expect(budget.limit).toBe(16);
    expect(budget.overloads).toBe(7);
  });

  it('lets out no more than the window, and more as it grows', async () => {
    let now = 0;
    const budget = new EngineBudget(8, { now: () => now });
    budget.overloaded(); // window 4
    now += 5_000;
    let running = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const runs = Array.from({ length: 12 }, () =>
      budget.run('g', 0, async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((r) => releases.push(r));
        running -= 1;
      }),
    );
    await tick();
    expect(running).toBe(4);
    for (let i = 0; i < 4; i++) budget.succeeded(); // window 5: one more starts
    await tick();
    expect(running).toBe(5);
    while (releases.length > 0) {
      (releases.shift() as () => void)();
      await tick();
    }
    await Promise.all(runs);
    expect(most).toBe(5);
  });
});

describe('EngineBudget activity', () => {
  it('counts requests that ended and the time with any in flight, once per take', async () => {
    let now = 0;
    const budget = new EngineBudget(4, { now: () => now });
    const gates: (() => void)[] = [];
    const start = () => budget.run('g', 0, () => new Promise<void>((r) => gates.push(r)));
    expect(budget.takeActivity()).toEqual({ answered: 0, busyMs: 0 });
    const a = start(); // busy from 10
    now = 10;
    // The first request took its slot at 0: busy since then.
    const b = start();
    now = 30;
    gates.shift()?.();
    await a;
    now = 50;
    gates.shift()?.();
    await b; // idle from 50
    now = 100;
    expect(budget.takeActivity()).toEqual({ answered: 2, busyMs: 50 });
    const c = start(); // busy from 100
    now = 130;
    // Taken while busy: the busy time so far, and the rest goes to the next take.
    expect(budget.takeActivity()).toEqual({ answered: 0, busyMs: 30 });
    now = 140;
    gates.shift()?.();
    await c;
    expect(budget.takeActivity()).toEqual({ answered: 1, busyMs: 10 });
  });
});

describe('EngineBudget fair shares (core/policy fairShares)', () => {
  /** Queues `n` requests of each group behind one running request, then lets them through one at a time. */
  async function order(
    groups: { name: string; tenant: string; priority: 'low' | 'normal' | 'high'; n: number }[],
  ) {
    const budget = new EngineBudget(1);
    const started: string[] = [];
    let release: () => void = () => {};
    const blocker = budget.run('blocker', 0, () => new Promise<void>((r) => (release = r)));
    const runs = groups.flatMap((g) =>
      Array.from({ length: g.n }, () =>
        budget.run(g.name, 0, async () => void started.push(g.name), {
          tenant: g.tenant,
          priority: g.priority,
        }),
      ),
    );
    release();
    await Promise.all([blocker, ...runs]);
    return started;
  }

  it('gives a high-priority batch twice the turns of a normal one of the same tenant', async () => {
    const started = await order([
      { name: 'normal', tenant: 't', priority: 'normal', n: 30 },
      { name: 'high', tenant: 't', priority: 'high', n: 30 },
    ]);
    const firstThirty = started.slice(0, 30);
    expect(firstThirty.filter((g) => g === 'high')).toHaveLength(20);
  });

  it("shares by tenant first: one tenant's two batches together get what another tenant's one batch gets", async () => {
    const started = await order([
      { name: 'a1', tenant: 'a', priority: 'normal', n: 40 },
      { name: 'a2', tenant: 'a', priority: 'normal', n: 40 },
      { name: 'b1', tenant: 'b', priority: 'normal', n: 40 },
    ]);
    const first = started.slice(0, 40);
    expect(first.filter((g) => g === 'b1')).toHaveLength(20);
    expect(first.filter((g) => g === 'a1')).toHaveLength(10);
    expect(first.filter((g) => g === 'a2')).toHaveLength(10);
  });
});
