import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../simulate/event-queue.js';

const drain = <T>(q: EventQueue<T>) => {
  const out: [number, T][] = [];
  for (let e = q.pop(); e; e = q.pop()) out.push([q.now, e.payload]);
  return out;
};

describe('EventQueue', () => {
  it('starts at time 0 with nothing to do', () => {
    const q = new EventQueue<string>();
    expect(q.now).toBe(0);
    expect(q.pop()).toBeUndefined();
    expect(q.now).toBe(0);
  });

  it('runs events in time order, moving the clock to each', () => {
    const q = new EventQueue<string>();
    q.schedule(30, 'c');
    q.schedule(10, 'a');
    q.schedule(20, 'b');
    expect(drain(q)).toEqual([
      [10, 'a'],
      [20, 'b'],
      [30, 'c'],
    ]);
  });

  it('runs events at the same time in the order they were scheduled', () => {
    const q = new EventQueue<number>();
    for (let i = 0; i < 50; i++) q.schedule(5, i);
    q.schedule(1, -1);
    expect(drain(q).map(([, p]) => p)).toEqual([-1, ...Array.from({ length: 50 }, (_, i) => i)]);
  });

  it('orders many events like a stable sort by time', () => {
    const q = new EventQueue<number>();
    const times = Array.from({ length: 500 }, (_, i) => (i * 7919) % 97);
    for (const [i, t] of times.entries()) q.schedule(t, i);
    const expected = times.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(drain(q)).toEqual(expected);
  });

  it('takes events scheduled while it runs, including at the current time, after those already due', () => {
    const q = new EventQueue<string>();
    q.schedule(10, 'first');
    q.schedule(10, 'second');
    const seen: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) {
      seen.push(e.payload);
      if (e.payload === 'first') {
        q.schedule(q.now, 'now');
        q.schedule(q.now + 5, 'later');
      }
    }
    expect(seen).toEqual(['first', 'second', 'now', 'later']);
    expect(q.now).toBe(15);
  });

  it('refuses an event in the past or at no time', () => {
    const q = new EventQueue<string>();
    q.schedule(10, 'a');
    q.pop();
    expect(() => q.schedule(9, 'b')).toThrow(/before the clock/);
    expect(() => q.schedule(Number.NaN, 'c')).toThrow(/finite/);
    expect(() => q.schedule(Number.POSITIVE_INFINITY, 'd')).toThrow(/finite/);
  });

  it('reports its size and the next time', () => {
    const q = new EventQueue<string>();
    q.schedule(4, 'a');
    q.schedule(2, 'b');
    expect(q.size).toBe(2);
    expect(q.peekTime()).toBe(2);
  });
});
