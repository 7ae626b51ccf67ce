interface Waiter {
  order: number;
  go: (release: () => void) => void;
}

interface Group {
  busy: boolean;
  waiting: Waiter[];
}

/**
 * Chunks of one batch start one at a time, lowest chunk number first. Starting a chunk is a read
 * of its batch and chunk records and the opening of its ranged GET: a receive that brings eight
 * chunks of one batch would otherwise start all eight at once, and the first chunk's reads queue
 * behind the other seven's before its first request can go out, although the engine budget
 * serves that chunk's lines first anyway (engine-budget.ts). Chunks of different batches start
 * side by side, so many small batches are not serialized.
 *
 * The grant is decided a macrotask after the first claim, so every chunk of the same receive
 * has claimed its turn and the lowest goes first, whatever order SQS returned them in.
 */
export class StartTurns {
  private readonly groups = new Map<string, Group>();

  /** Resolves with `release` when it is this chunk's turn; call `release` once it has started. */
  take(group: string, order: number): Promise<() => void> {
    let g = this.groups.get(group);
    if (!g) {
      g = { busy: false, waiting: [] };
      this.groups.set(group, g);
    }
    const entry = g;
    return new Promise((go) => {
      entry.waiting.push({ order, go });
      if (!entry.busy) {
        entry.busy = true;
        setImmediate(() => this.next(group, entry));
      }
    });
  }

  private next(group: string, g: Group): void {
    if (g.waiting.length === 0) {
      g.busy = false;
      this.groups.delete(group);
      return;
    }
    let at = 0;
    for (let i = 1; i < g.waiting.length; i++)
      if ((g.waiting[i] as Waiter).order < (g.waiting[at] as Waiter).order) at = i;
    const [w] = g.waiting.splice(at, 1) as [Waiter];
    let released = false;
    w.go(() => {
      if (released) return;
      released = true;
      this.next(group, g);
    });
  }
}
