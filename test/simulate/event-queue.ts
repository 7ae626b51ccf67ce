/**
 * The simulator's clock and event list: events run in time order, and events at the same time in
 * the order they were scheduled (a stable priority queue), so a run is reproducible.
 */
export interface SimEvent<T> {
  readonly at: number;
  readonly seq: number;
  readonly payload: T;
}

export class EventQueue<T> {
  private heap: SimEvent<T>[] = [];
  private seq = 0;
  private current = 0;

  /** Simulated seconds: the time of the event being handled. */
  get now(): number {
    return this.current;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `payload` at time `at` (never before now: the past cannot be changed). */
  schedule(at: number, payload: T): void {
    if (!Number.isFinite(at)) throw new Error(`event time must be finite, got ${at}`);
    if (at < this.current) throw new Error(`event at ${at} is before the clock (${this.current})`);
    this.heap.push({ at, seq: this.seq++, payload });
    this.up(this.heap.length - 1);
  }

  /** Removes the next event and moves the clock to its time; undefined when none is left. */
  pop(): SimEvent<T> | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop() as SimEvent<T>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    this.current = top.at;
    return top;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i] as SimEvent<T>;
    const b = this.heap[j] as SimEvent<T>;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i] as SimEvent<T>;
    this.heap[i] = this.heap[j] as SimEvent<T>;
    this.heap[j] = t;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.less(l, m)) m = l;
      if (r < this.heap.length && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
