import type { MeasuredThroughput, Pool, Prices } from '../../core/policy/index.js';
import { EventQueue } from './event-queue.js';
import { Rng, subSeed } from './rng.js';
import { type InterruptionTrace, lifetime, spotLaunchable } from './traces.js';
import { type BatchSpec, chunkSizes } from './workload.js';

export interface SimSettings {
  readonly capacity: Readonly<Record<Pool, { min: number; max: number }>>;
  readonly prices: Prices;
  /** What one busy task really completes (the policies only see what the simulator measured). */
  readonly requestsPerSecondPerTask: number;
  /** Seconds from launch to serving, per pool (billed). */
  readonly startupSeconds: Readonly<Record<Pool, number>>;
  /** The control loop's period (the SLA monitor runs every minute). */
  readonly tickSeconds: number;
  /** An idle task above the desired count is stopped after this long idle (the CDK's scale-in). */
  readonly idleGraceSeconds: number;
  /** The run stops here even with work left (that work missed its window). */
  readonly horizonSeconds: number;
  readonly model: string;
}

export interface SimChunk {
  readonly batchId: string;
  readonly index: number;
  readonly requests: number;
  status: 'queued' | 'running' | 'done';
  /** Sent to dedicated capacity whatever its batch's route (e.g. after an interruption). */
  forceDedicated: boolean;
  attempts: number;
}

export interface SimBatch {
  readonly spec: BatchSpec;
  readonly deadlineS: number;
  readonly chunks: SimChunk[];
  remainingRequests: number;
  /** The pools its queued chunks may run on, as the policy last said. */
  pools: readonly Pool[];
  rejected: boolean;
  warning?: string;
  firstStartS?: number;
  finishS?: number;
  /** Policy-owned state (e.g. the escalation to hand back in). */
  state: Record<string, unknown>;
}

export interface SimTask {
  readonly id: number;
  readonly pool: Pool;
  readonly launchS: number;
  readonly readyS: number;
  /** When the trace interrupts it (Spot only; Infinity for none). Known to foresight policies only. */
  readonly interruptS: number;
  state: 'starting' | 'idle' | 'busy' | 'gone';
  idleSinceS: number;
  chunk?: SimChunk;
  chunkStartS?: number;
  endS?: number;
  interrupted: boolean;
}

/** What a policy sees of the simulation. */
export interface SimView {
  readonly nowS: number;
  readonly settings: SimSettings;
  /** Batches that have arrived (accepted or not), in arrival order. */
  readonly batches: readonly SimBatch[];
  readonly tasks: readonly SimTask[];
  /** Throughput the simulator measured per pool over the last two hours (absent until a chunk is done). */
  measured(): MeasuredThroughput[];
  /** Spot interruptions and Spot task-hours over the last six hours. */
  spotHistory(): { interruptions: number; spotTaskHours: number };
  /** Requests of a batch's chunks started on a pool since `sinceS`. */
  startedSince(batchId: string, pool: Pool, sinceS: number): number;
}

export interface SimPolicy {
  readonly name: string;
  /** Foresight: a Spot task never starts a chunk it would not finish before its interruption. */
  readonly foresight?: boolean;
  /** At arrival: accept (routing the batch: `pools`) or refuse it (`rejected`). */
  admit(batch: SimBatch, view: SimView): void;
  /** Every tick and after each arrival: routes batches (`pools`) and returns tasks wanted per pool. */
  control(view: SimView): Record<Pool, number>;
  /** The next chunk for a free task of `pool`, among `queued` (chunks routed to the pool, in arrival order). */
  pick(pool: Pool, queued: readonly SimChunk[], view: SimView): SimChunk | undefined;
  /** A chunk interrupted on Spot is queued again; the policy may send it to dedicated capacity. */
  onInterrupted(chunk: SimChunk, batch: SimBatch): void;
}

export interface SimResult {
  readonly policy: string;
  readonly trace: string;
  readonly seed: number;
  readonly batches: readonly SimBatch[];
  readonly tasks: readonly SimTask[];
  readonly cost: number;
  readonly costByPool: Readonly<Record<Pool, number>>;
  readonly interruptions: number;
  readonly lostTaskSeconds: number;
  readonly failedSpotLaunches: number;
  readonly endS: number;
}

type Event =
  | { kind: 'arrival'; spec: BatchSpec }
  | { kind: 'tick' }
  | { kind: 'ready'; task: SimTask }
  | { kind: 'done'; task: SimTask; chunk: SimChunk }
  | { kind: 'interrupt'; task: SimTask };

/** Runs one policy over one workload and one interruption trace. */
export function simulate(
  policy: SimPolicy,
  workload: readonly BatchSpec[],
  trace: InterruptionTrace,
  settings: SimSettings,
  seed: number,
): SimResult {
  const events = new EventQueue<Event>();
  const lifetimes = new Rng(subSeed(seed, 99));
  const batches: SimBatch[] = [];
  const byId = new Map<string, SimBatch>();
  const tasks: SimTask[] = [];
  const completions: { pool: Pool; atS: number; requests: number; seconds: number }[] = [];
  const interruptTimes: number[] = [];
  let lostTaskSeconds = 0;
  let failedSpotLaunches = 0;
  let desired: Record<Pool, number> = { spot: 0, dedicated: 0 };
  const starts = new Map<string, { atS: number; requests: number }[]>();

  const view: SimView = {
    get nowS() {
      return events.now;
    },
    settings,
    batches,
    tasks,
    measured() {
      const since = events.now - 2 * 3600;
      const out: MeasuredThroughput[] = [];
      for (const pool of ['spot', 'dedicated'] as const) {
        const recent = completions.filter((c) => c.pool === pool && c.atS >= since);
        const seconds = recent.reduce((n, c) => n + c.seconds, 0);
        if (seconds > 0) {
          const requests = recent.reduce((n, c) => n + c.requests, 0);
          out.push({ pool, model: settings.model, requestsPerSecondPerTask: requests / seconds });
        }
      }
      return out;
    },
    spotHistory() {
      const since = events.now - 6 * 3600;
      let seconds = 0;
      for (const t of tasks) {
        if (t.pool !== 'spot') continue;
        const from = Math.max(since, t.launchS);
        const to = t.endS ?? events.now;
        if (to > from) seconds += to - from;
      }
      return {
        interruptions: interruptTimes.filter((s) => s >= since).length,
        spotTaskHours: seconds / 3600,
      };
    },
    startedSince(batchId, pool, sinceS) {
      const list = starts.get(`${pool}/${batchId}`) ?? [];
      let n = 0;
      for (let i = list.length - 1; i >= 0; i--) {
        const s = list[i] as { atS: number; requests: number };
        if (s.atS < sinceS) break;
        n += s.requests;
      }
      return n;
    },
  };

  const alive = (pool: Pool) => tasks.filter((t) => t.pool === pool && t.state !== 'gone');
  const servedBy = (c: SimChunk, pool: Pool): boolean =>
    c.forceDedicated ? pool === 'dedicated' : (byId.get(c.batchId)?.pools.includes(pool) ?? false);
  const stop = (task: SimTask) => {
    task.state = 'gone';
    task.endS = events.now;
  };

  const launch = (pool: Pool) => {
    if (pool === 'spot' && !spotLaunchable(trace, events.now)) {
      failedSpotLaunches += 1;
      return;
    }
    const life = pool === 'spot' ? lifetime(trace, events.now, lifetimes) : Number.POSITIVE_INFINITY;
    const task: SimTask = {
      id: tasks.length,
      pool,
      launchS: events.now,
      readyS: events.now + settings.startupSeconds[pool],
      interruptS: events.now + life,
      state: 'starting',
      idleSinceS: events.now,
      interrupted: false,
    };
    tasks.push(task);
    events.schedule(task.readyS, { kind: 'ready', task });
    if (Number.isFinite(task.interruptS) && task.interruptS < settings.horizonSeconds) {
      events.schedule(task.interruptS, { kind: 'interrupt', task });
    }
  };

  const scale = () => {
    for (const pool of ['spot', 'dedicated'] as const) {
      const want = Math.max(0, Math.min(settings.capacity[pool].max, desired[pool]));
      const live = alive(pool);
      for (let n = live.length; n < want; n++) launch(pool);
      let excess = live.length - want;
      // Starting tasks are stopped first (newest first), then tasks idle for the grace period.
      for (const t of [...live].reverse()) {
        if (excess <= 0) break;
        if (t.state === 'starting') {
          stop(t);
          excess -= 1;
        }
      }
      for (const t of live) {
        if (excess <= 0) break;
        if (t.state === 'idle' && events.now - t.idleSinceS >= settings.idleGraceSeconds) {
          stop(t);
          excess -= 1;
        }
      }
    }
  };

  const queuedFor = (pool: Pool): SimChunk[] => {
    const out: SimChunk[] = [];
    for (const b of batches) {
      if (b.rejected || b.finishS !== undefined) continue;
      for (const c of b.chunks) if (c.status === 'queued' && servedBy(c, pool)) out.push(c);
    }
    return out;
  };

  const dispatch = () => {
    for (const pool of ['spot', 'dedicated'] as const) {
      const idle = tasks.filter((t) => t.pool === pool && t.state === 'idle');
      if (idle.length === 0) continue;
      let queued = queuedFor(pool);
      for (const task of idle) {
        if (queued.length === 0) break;
        const chunk = policy.pick(pool, queued, view);
        if (!chunk) break;
        const seconds = chunk.requests / settings.requestsPerSecondPerTask;
        if (policy.foresight && events.now + seconds > task.interruptS) {
          // It knows this task goes before the chunk would be done: stop it, a new one is launched.
          stop(task);
          continue;
        }
        chunk.status = 'running';
        chunk.attempts += 1;
        task.state = 'busy';
        task.chunk = chunk;
        task.chunkStartS = events.now;
        const key = `${pool}/${chunk.batchId}`;
        starts.set(key, [...(starts.get(key) ?? []), { atS: events.now, requests: chunk.requests }]);
        const batch = byId.get(chunk.batchId);
        if (batch && batch.firstStartS === undefined) batch.firstStartS = events.now;
        events.schedule(events.now + seconds, { kind: 'done', task, chunk });
        queued = queued.filter((c) => c !== chunk);
      }
    }
  };

  const unfinished = () =>
    batches.some((b) => !b.rejected && b.finishS === undefined) || batches.length < workload.length;

  for (const spec of workload) events.schedule(spec.arrivalS, { kind: 'arrival', spec });
  events.schedule(0, { kind: 'tick' });

  let finished = false;
  for (let e = events.pop(); e && !finished; e = events.pop()) {
    if (events.now > settings.horizonSeconds) break;
    const ev = e.payload;
    switch (ev.kind) {
      case 'arrival': {
        const batch: SimBatch = {
          spec: ev.spec,
          deadlineS: ev.spec.arrivalS + ev.spec.windowS,
          chunks: chunkSizes(ev.spec.requests).map((requests, index) => ({
            batchId: ev.spec.id,
            index,
            requests,
            status: 'queued',
            forceDedicated: false,
            attempts: 0,
          })),
          remainingRequests: ev.spec.requests,
          pools: ['spot'],
          rejected: false,
          state: {},
        };
        batches.push(batch);
        byId.set(batch.spec.id, batch);
        policy.admit(batch, view);
        desired = policy.control(view);
        scale();
        dispatch();
        break;
      }
      case 'tick': {
        desired = policy.control(view);
        scale();
        dispatch();
        if (unfinished() || tasks.some((t) => t.state !== 'gone')) {
          events.schedule(events.now + settings.tickSeconds, { kind: 'tick' });
        } else {
          finished = true;
        }
        break;
      }
      case 'ready': {
        if (ev.task.state !== 'starting') break;
        ev.task.state = 'idle';
        ev.task.idleSinceS = events.now;
        dispatch();
        break;
      }
      case 'done': {
        const { task, chunk } = ev;
        if (task.state !== 'busy' || task.chunk !== chunk) break; // interrupted meanwhile
        chunk.status = 'done';
        task.state = 'idle';
        task.idleSinceS = events.now;
        task.chunk = undefined;
        completions.push({
          pool: task.pool,
          atS: events.now,
          requests: chunk.requests,
          seconds: events.now - (task.chunkStartS ?? events.now),
        });
        const batch = byId.get(chunk.batchId);
        if (batch) {
          batch.remainingRequests -= chunk.requests;
          if (batch.remainingRequests <= 0 && batch.finishS === undefined) batch.finishS = events.now;
        }
        dispatch();
        break;
      }
      case 'interrupt': {
        const { task } = ev;
        if (task.state === 'gone') break;
        interruptTimes.push(events.now);
        task.interrupted = true;
        const chunk = task.chunk;
        if (chunk) {
          lostTaskSeconds += events.now - (task.chunkStartS ?? events.now);
          chunk.status = 'queued';
          task.chunk = undefined;
          const batch = byId.get(chunk.batchId);
          if (batch) policy.onInterrupted(chunk, batch);
        }
        stop(task);
        dispatch();
        break;
      }
    }
  }

  const endS = events.now;
  const costByPool: Record<Pool, number> = { spot: 0, dedicated: 0 };
  for (const t of tasks) {
    const end = Math.min(t.endS ?? endS, endS);
    const price = t.pool === 'spot' ? settings.prices.spotPerTaskHour : settings.prices.onDemandPerTaskHour;
    costByPool[t.pool] += ((end - t.launchS) / 3600) * price;
  }
  return {
    policy: policy.name,
    trace: trace.name,
    seed,
    batches,
    tasks,
    cost: costByPool.spot + costByPool.dedicated,
    costByPool,
    interruptions: interruptTimes.length,
    lostTaskSeconds,
    failedSpotLaunches,
    endS,
  };
}
