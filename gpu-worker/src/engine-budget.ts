import { defaultPolicySettings, fairShares, type Priority } from '../../core/policy/index.js';

/** Requests of one chunk waiting for a slot: an array read from `head` on (no O(n) shift per start). */
interface Lane {
  items: ((() => void) | undefined)[];
  head: number;
}

/** A batch's waiting requests, by chunk: lanes in ascending order, the lowest served first. */
interface Group {
  lanes: Map<number, Lane>;
  /** The orders of the lanes with waiting requests, ascending. */
  orders: number[];
  /** Whose batch it is, for its fair share (core/policy `fairShares`). */
  owner: Owner;
  /** Its virtual time: grows by 1 / share with each request it starts (stride scheduling). */
  pass: number;
}

/** The tenant and priority of a group (a batch), which weigh its turns. */
export interface Owner {
  tenant: string;
  priority: Priority;
}

/**
 * The worker's concurrency budget at its engine: at most `size` requests in flight, shared by
 * every chunk the worker holds.
 *
 * Waiting requests are served across groups (a group is a batch) by their fair shares, the
 * policy's (core/policy `fairShares`: tenants first, each by the highest priority among its
 * batches, then a tenant's batches by priority), with stride scheduling: each group advances by
 * 1 / share per request it starts and the group furthest behind goes next. A small batch received
 * while a large one fills the budget gets its share at once instead of waiting behind it; one
 * tenant's many batches share what one batch of another tenant gets; a high-priority batch gets
 * twice a normal one's turns. Within a group, the lane (a chunk) with the lowest order goes
 * first, so the chunks of one batch finish one after another, each as early as it can, rather
 * than all together at the end: their results are written while the engine works on the next,
 * and the batch's last chunk is all that is left to write after its last answer.
 */
export class EngineBudget {
  private running = 0;
  /**
   * The window of requests let out at once: `size` at most, halved when the engine says it is
   * overloaded (429, 503), grown back by one per window of successes (AIMD, as TCP does), so an
   * engine that cannot take `size` is not hammered and one that can gets it back.
   */
  private window: number;
  /** Successes since the window last grew. */
  private credit = 0;
  /** When the window was last halved: one overload burst halves it once. */
  private lastCutAt = Number.NEGATIVE_INFINITY;
  private cuts = 0;
  private waiting = 0;
  /** Groups with waiting work. */
  private readonly groups = new Map<string, Group>();
  /** Each waiting group's fair share, computed when the set of waiting groups changes. */
  private shares = new Map<string, number>();
  /** The pass of the group served last: a group that starts waiting starts from here. */
  private clock = 0;
  private maxRunning = 0;
  /** Activity since the last `takeActivity`: requests that ended, and time with any in flight. */
  private ended = 0;
  private busyMs = 0;
  private busySince = 0;

  constructor(
    readonly size: number,
    private readonly opts: { now?: () => number; cutEveryMs?: number } = {},
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`engine budget must be a positive integer, not ${size}`);
    this.window = size;
  }

  /** Requests let out at once now (the AIMD window). */
  get limit(): number {
    return this.window;
  }

  /** Times the window was halved since the budget was made. */
  get overloads(): number {
    return this.cuts;
  }

  /**
   * The engine answered 429 or 503: halve the window (not below 1), at most once per
   * `cutEveryMs` (default 1 s), since the requests already in flight answer the same way.
   */
  overloaded(): void {
    const now = this.now();
    if (now - this.lastCutAt < (this.opts.cutEveryMs ?? 1_000)) return;
    this.lastCutAt = now;
    this.cuts += 1;
    this.window = Math.max(1, Math.floor(this.window / 2));
    this.credit = 0;
  }

  /** A request succeeded: a window's worth of successes grows the window by one, up to `size`. */
  succeeded(): void {
    if (this.window >= this.size) return;
    this.credit += 1;
    if (this.credit >= this.window) {
      this.credit = 0;
      this.window += 1;
      this.next();
    }
  }

  /** Requests running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting;
  }

  /** The most requests that ran at once since the budget was made. */
  get peak(): number {
    return this.maxRunning;
  }

  /**
   * Runs `task` once a slot is free, in `group`'s turn and, within the group, after the waiting
   * tasks of lower `order`; releases the slot when it settles.
   */
  async run<T>(
    group: string,
    order: number,
    task: () => Promise<T>,
    owner: Owner = { tenant: group, priority: 'normal' },
  ): Promise<T> {
    if (this.running < this.window && this.waiting === 0) this.take();
    else await this.wait(group, order, owner);
    try {
      return await task();
    } finally {
      this.running -= 1;
      this.ended += 1;
      if (this.running === 0) this.busyMs += this.now() - this.busySince;
      this.next();
    }
  }

  /**
   * Requests that ended and milliseconds with at least one request in flight, since the last
   * call: a worker's measured throughput is the one over the other (core/pools/task-report.ts).
   */
  takeActivity(): { answered: number; busyMs: number } {
    const now = this.now();
    const busyMs = this.busyMs + (this.running > 0 ? now - this.busySince : 0);
    const activity = { answered: this.ended, busyMs };
    this.ended = 0;
    this.busyMs = 0;
    if (this.running > 0) this.busySince = now;
    return activity;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private take(): void {
    if (this.running === 0) this.busySince = this.now();
    this.running += 1;
    if (this.running > this.maxRunning) this.maxRunning = this.running;
  }

  private wait(name: string, order: number, owner: Owner): Promise<void> {
    return new Promise<void>((resolve) => {
      let group = this.groups.get(name);
      if (!group) {
        group = { lanes: new Map(), orders: [], owner, pass: this.clock };
        this.groups.set(name, group);
        this.reshare();
      }
      let lane = group.lanes.get(order);
      if (!lane) {
        lane = { items: [], head: 0 };
        group.lanes.set(order, lane);
        let i = group.orders.length;
        while (i > 0 && (group.orders[i - 1] as number) > order) i--;
        group.orders.splice(i, 0, order);
      }
      lane.items.push(resolve);
      this.waiting += 1;
    });
  }

  /** The waiting groups' shares, from the policy's rule over their owners. */
  private reshare(): void {
    this.shares = fairShares(
      [...this.groups].map(([id, g]) => ({ id, tenant: g.owner.tenant, priority: g.owner.priority })),
      { priorityWeights: defaultPolicySettings.priorityWeights },
    );
  }

  /** Gives the freed slot to the group furthest behind its share, to its lowest lane. */
  private next(): void {
    if (this.waiting === 0 || this.running >= this.window) return;
    let name: string | undefined;
    let group: Group | undefined;
    for (const [n, g] of this.groups) {
      if (!group || g.pass < group.pass) {
        name = n;
        group = g;
      }
    }
    if (!group || name === undefined) return;
    this.clock = group.pass;
    group.pass += 1 / Math.max(this.shares.get(name) ?? 1, Number.MIN_VALUE);
    const order = group.orders[0] as number;
    const lane = group.lanes.get(order) as Lane;
    const start = lane.items[lane.head] as () => void;
    lane.items[lane.head] = undefined;
    lane.head += 1;
    if (lane.head === lane.items.length) {
      group.lanes.delete(order);
      group.orders.shift();
    }
    if (group.orders.length === 0) {
      this.groups.delete(name);
      this.reshare();
    }
    this.waiting -= 1;
    this.take();
    start();
  }
}
