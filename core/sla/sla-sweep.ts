import type { Deps } from '../app/deps.js';
import type { BatchRecord } from '../batches/batch-record.js';
import { FINALIZER_LEASE_S } from '../batches/finalize-batch.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { allChunksDone, type ChunkRecord } from '../chunks/chunk-record.js';
import { batchWindow, chunkMessage, messageBase, windowedMessages } from '../chunks/dispatch.js';
import { toUnixSeconds } from '../clock.js';
import { catalogOf, DEFAULT_POOL_GROUP, poolGroupOf, poolGroups, poolQueueOf } from '../models/catalog.js';
import type { BatchStatus } from '../openai/schemas.js';
import { decide, type Pool, pools, type Route } from '../policy/index.js';
import {
  type AskedRecord,
  askedKey,
  measuredFor,
  nextAsked,
  observedCapacity,
  observePool,
  type PoolObservation,
  pendingTasks,
  poolKey,
} from '../pools/task-report.js';
import { groupCapacity, policyInput, toPolicyBatch } from './policy-inputs.js';

type SweepDeps = Pick<Deps, 'batches' | 'queue' | 'clock' | 'sla' | 'limits' | 'pools'>;

/** A running batch whose window ends before the next sweep: `expiresAt` in unix seconds. */
export interface DueBatch extends BatchRef {
  expiresAt: number;
}

/** A running batch the sweep hands to the policy, with its chunk records if it read them. */
interface Running {
  batch: BatchRecord;
  chunks: ChunkRecord[] | undefined;
}

export interface SweepReport {
  /** Running batches seen, by status. */
  active: Partial<Record<BatchStatus, number>>;
  expired: string[];
  /** Batches stuck validating whose scheduling message was sent again, and those failed after. */
  redriven: string[];
  stalled: string[];
  /** Running batches with no chunk completed for DISPATCH_STALL_SECONDS whose pending chunks were sent again. */
  redispatched: { batchId: string; chunks: number }[];
  /** Batches the policy moved to dedicated capacity in this sweep, with the chunks sent there. */
  escalated: { batchId: string; chunks: number }[];
  /** Batches the policy sent back to Spot: their next chunk messages go there. */
  deescalated: string[];
  /** Running batches the policy judged at risk of missing their window. */
  atRisk: string[];
  /** Tasks each pool of the default pool group should run (core/policy `desiredTasks`). */
  desiredTasks: Record<Pool, number>;
  /**
   * Tasks each pool of every pool group in the catalog should run (the default group's are
   * `desiredTasks`), published as the DesiredTasks metric per pool and group.
   */
  groupDesiredTasks: Record<string, Record<Pool, number>>;
  finalizeRequested: string[];
  /**
   * Running batches whose window ends within SLA_EXPIRY_LOOKAHEAD_SECONDS, soonest first: the
   * monitor expires each at its second (`expireOnTime`).
   */
  dueSoon: DueBatch[];
  /** Batches whose chunk records were read (the rest were judged from their counters). */
  chunkReads: number;
  /** What the task reports said, per pool group the policy ran for (measured rate, running and busy tasks). */
  observed: Record<string, Record<Pool, PoolObservation>>;
}

/** A batch stuck in finalizing or cancelling after a finalizer's claim ran out gets its finalize message again. */
const STUCK_AFTER_S = FINALIZER_LEASE_S;

/**
 * The SLA monitor's pass over running batches: expires those past their completion window,
 * re-requests finalization where every chunk is done but no finalizer ran (a lost message), and
 * hands the rest to core/policy `decide`, which routes each batch (escalation to dedicated
 * capacity and back, `applyRoute`) and sizes each pool (`desiredTasks`).
 */
export async function slaSweep(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = {
    active: {},
    expired: [],
    redriven: [],
    stalled: [],
    redispatched: [],
    escalated: [],
    deescalated: [],
    atRisk: [],
    desiredTasks: { spot: 0, dedicated: 0 },
    groupDesiredTasks: {},
    finalizeRequested: [],
    dueSoon: [],
    chunkReads: 0,
    observed: {},
  };
  const now = deps.clock.now();
  const nowS = toUnixSeconds(now);
  const finalize = async (ref: BatchRef) => {
    await deps.queue.send('finalizing', ref);
    report.finalizeRequested.push(ref.batchId);
  };

  const running: Running[] = [];
  for (const batch of await deps.batches.listActive()) {
    report.active[batch.status] = (report.active[batch.status] ?? 0) + 1;
    const ref = { tenant: batch.tenant, batchId: batch.id };
    if (batch.status === 'in_progress' && nowS >= batch.expires_at) {
      if (
        await deps.batches.transition(ref, 'finalizing', nowS, { end_reason: 'expired' }, ['in_progress'])
      ) {
        report.expired.push(batch.id);
        await finalize(ref);
      }
      continue;
    }
    if (batch.status === 'validating') {
      await unstick(deps, batch, nowS, report);
      continue;
    }
    if (batch.status === 'finalizing' || batch.status === 'cancelling') {
      const since = batch.finalizing_at ?? batch.cancelling_at ?? nowS;
      if (nowS - since >= STUCK_AFTER_S) await finalize(ref);
      continue;
    }
    if (batch.status !== 'in_progress') continue;

    // The batch's counters say where it stands; the chunk records (the source of truth) are read
    // only when the counters say every chunk is done, when pending chunks are to be escalated,
    // or, every SLA_RECONCILE_SECONDS, to catch a counter update that was lost.
    const countersDone = batch.chunk_count !== undefined && (batch.chunks_done ?? 0) >= batch.chunk_count;
    let chunks: ChunkRecord[] | undefined;
    if (countersDone || dueForReconcile(batch, nowS, deps.sla.SLA_RECONCILE_SECONDS)) {
      chunks = await deps.batches.listChunks(ref);
      report.chunkReads += 1;
      if (allChunksDone(batch, chunks)) {
        await finalize(ref);
        continue;
      }
    }
    if (dispatchStalled(batch, nowS, deps.sla.DISPATCH_STALL_SECONDS)) {
      if (!chunks) {
        chunks = await deps.batches.listChunks(ref);
        report.chunkReads += 1;
      }
      report.redispatched.push({ batchId: batch.id, chunks: await redispatch(deps, batch, chunks, nowS) });
    }
    running.push({ batch, chunks });
    if (batch.expires_at - nowS <= deps.sla.SLA_EXPIRY_LOOKAHEAD_SECONDS)
      report.dueSoon.push({ tenant: batch.tenant, batchId: batch.id, expiresAt: batch.expires_at });
  }
  report.dueSoon.sort((a, b) => a.expiresAt - b.expiresAt);
  await applyPolicy(deps, running, now, report);
  return report;
}

/**
 * Whether this sweep reads a running batch's chunk records although its counters show work
 * left: once every `everyS` seconds of the batch's run (in the minute that starts each period),
 * so a counter that missed an update (an emulator that is not atomic, a hand-edited record)
 * delays finalization by at most that long. Batches started at different times are read in
 * different sweeps.
 */
function dueForReconcile(batch: BatchRecord, nowS: number, everyS: number): boolean {
  const runningS = nowS - (batch.in_progress_at ?? batch.created_at);
  return runningS >= everyS && runningS % everyS < 60;
}

/** Whether no chunk of a running batch with chunks left has completed for `afterS` seconds. */
function dispatchStalled(batch: BatchRecord, nowS: number, afterS: number): boolean {
  if (batch.chunk_count === undefined || (batch.chunks_done ?? 0) >= batch.chunk_count) return false;
  const since = Math.max(batch.in_progress_at ?? batch.created_at, batch.last_chunk_at ?? 0);
  return nowS - since >= afterS;
}

/**
 * Sends a stalled batch's pending chunks again, windowed as the scheduler sends them, to the
 * pool it is routed to, and moves `last_chunk_at` to now so the next sweeps wait again before
 * another try. Returns the number of chunks that were pending.
 */
async function redispatch(
  deps: SweepDeps,
  batch: BatchRecord,
  chunks: readonly ChunkRecord[],
  nowS: number,
): Promise<number> {
  const pending = chunks.filter((c) => c.status !== 'done');
  if (pending.length === 0) return 0;
  await deps.queue.sendAll(
    poolQueueOf(catalogOf(deps.limits), batch.model, routedPool(batch)),
    windowedMessages(messageBase(batch), pending, batchWindow(deps.limits, batch)),
  );
  await deps.batches.update({ tenant: batch.tenant, batchId: batch.id }, { last_chunk_at: nowS });
  return pending.length;
}

/**
 * A batch validating with no progress for VALIDATION_STALL_SECONDS lost its scheduling message
 * (a crash between the batch write and the send, or a dead-lettered message): send it again, a
 * few times, then fail the batch with a clear error rather than leave it validating forever.
 * The scheduler is idempotent, so a re-drive that races a slow but live scheduler is harmless.
 */
async function unstick(
  deps: SweepDeps,
  batch: BatchRecord,
  nowS: number,
  report: SweepReport,
): Promise<void> {
  const ref = { tenant: batch.tenant, batchId: batch.id };
  const since = Math.max(batch.created_at, batch.validation_progress_at ?? 0);
  if (nowS - since < deps.sla.VALIDATION_STALL_SECONDS) return;
  const redrives = batch.validation_redrives ?? 0;
  if (redrives < deps.sla.VALIDATION_REDRIVES) {
    await deps.batches.update(ref, { validation_redrives: redrives + 1, validation_progress_at: nowS });
    await deps.queue.send('scheduling', ref);
    report.redriven.push(batch.id);
    return;
  }
  const failed = await deps.batches.transition(
    ref,
    'failed',
    nowS,
    {
      errors: [
        {
          code: 'validation_stalled',
          message: `Validation of the input file made no progress for ${deps.sla.VALIDATION_STALL_SECONDS} s after ${redrives} retries; create the batch again.`,
          param: null,
          line: null,
        },
      ],
    },
    ['validating'],
  );
  if (failed) report.stalled.push(batch.id);
}

/**
 * Runs the policy over the running batches, one decision per model (remaining requests from the
 * counters, the escalation stored on each batch, configured capacity and prices, interruptions
 * from the counters), applies each route and adds up the desired tasks per pool group (the
 * catalog's, core/models/catalog.ts): a group's pools serve only its models, so each group's
 * counts are its models' sums, within the pools' bounds.
 */
async function applyPolicy(
  deps: SweepDeps,
  running: readonly Running[],
  nowMs: number,
  report: SweepReport,
): Promise<void> {
  const byModel = new Map<string, Running[]>();
  for (const r of running) {
    const model = r.batch.model ?? '';
    byModel.set(model, [...(byModel.get(model) ?? []), r]);
  }
  if (byModel.size === 0) byModel.set('', []);
  const catalog = catalogOf(deps.limits);
  const desired: Record<string, Record<Pool, number>> = {};
  for (const g of [DEFAULT_POOL_GROUP, ...poolGroups(catalog)]) desired[g] = { spot: 0, dedicated: 0 };
  // What the last sweeps asked each pool for: the tasks ECS is still starting (one BatchGet).
  const nowS = toUnixSeconds(nowMs);
  const askedKeys = Object.keys(desired).flatMap((g) => pools.map((p) => askedKey(g, p)));
  const asked = new Map((await deps.pools.asked(askedKeys)).map((r) => [r.pool, r]));
  for (const [model, group] of byModel) {
    const records = group.map((r) => r.batch);
    const poolGroup = poolGroupOf(catalog, model || undefined);
    const configured = groupCapacity(deps, poolGroup);
    // A group's reports are read once a sweep, and not at all with no batch running (the
    // decision is then the pools' minimum).
    if (records.length > 0)
      report.observed[poolGroup] ??= await observeGroup(deps, poolGroup, nowMs, (pool) =>
        asked.get(askedKey(poolGroup, pool)),
      );
    const observation = report.observed[poolGroup];
    const decision = decide(
      policyInput(
        deps,
        nowMs,
        model,
        records.map((b) => toPolicyBatch(b)),
        records,
        observation && {
          measured: measuredFor(model, observation),
          capacity: {
            spot: observedCapacity(configured.spot, observation.spot),
            dedicated: observedCapacity(configured.dedicated, observation.dedicated),
          },
        },
      ),
    );
    const tasks = desired[poolGroup] ?? { spot: 0, dedicated: 0 };
    for (const pool of pools) tasks[pool] += decision.desiredTasks[pool];
    desired[poolGroup] = tasks;
    const byId = new Map(group.map((r) => [r.batch.id, r]));
    for (const route of decision.routes) {
      const r = byId.get(route.batchId);
      if (r) await applyRoute(deps, r, route, report);
    }
  }
  // Each group's pools within their own bounds (the catalog's, else SLA_*: cdk/lib/environment.ts).
  for (const [g, tasks] of Object.entries(desired)) {
    const configured = groupCapacity(deps, g);
    const bounded = { spot: 0, dedicated: 0 };
    for (const pool of pools)
      bounded[pool] = Math.max(configured[pool].min, Math.min(configured[pool].max, tasks[pool]));
    report.groupDesiredTasks[g] = bounded;
    for (const pool of pools) {
      const key = askedKey(g, pool);
      const next = nextAsked(asked.get(key), key, bounded[pool], nowS, ASKED_FRESH_S);
      if (next) await deps.pools.putAsked(next);
    }
  }
  report.desiredTasks = report.groupDesiredTasks[DEFAULT_POOL_GROUP] ?? { spot: 0, dedicated: 0 };
}

/** How far back the sweep reads the task reports; each report's own interval decides if it is fresh. */
const REPORTS_LOOKBACK_S = 900;

/** An asked count older than this says nothing about now (core/pools/task-report.ts `nextAsked`). */
const ASKED_FRESH_S = 600;

/**
 * What the task reports of a pool group's two pools say now (one query per pool), with the
 * tasks the last sweeps asked for that do not report yet: pending.
 */
async function observeGroup(
  deps: Pick<SweepDeps, 'pools' | 'sla'>,
  group: string,
  nowMs: number,
  askedOf: (pool: Pool) => AskedRecord | undefined,
): Promise<Record<Pool, PoolObservation>> {
  const nowS = toUnixSeconds(nowMs);
  const [spot, dedicated] = await Promise.all(
    pools.map(async (pool) => {
      const o = observePool(await deps.pools.recent(poolKey(group, pool), nowS - REPORTS_LOOKBACK_S), nowS);
      const { pending, readySeconds } = pendingTasks(
        askedOf(pool),
        o.running,
        nowS,
        deps.sla.SLA_TASK_STARTUP_SECONDS,
      );
      return pending > 0 ? { ...o, pending, pendingReadySeconds: readySeconds } : o;
    }),
  );
  return { spot: spot as PoolObservation, dedicated: dedicated as PoolObservation };
}

/** The pool a batch's chunk messages went to before this sweep (batches escalated before routes were stored: dedicated). */
const routedPool = (b: BatchRecord): Pool => b.route_pool ?? (b.at_risk ? 'dedicated' : 'spot');

/**
 * Applies one route of the policy to a batch. Escalation: copies of its chunks not yet done are
 * sent to the dedicated queue and flagged (spot workers skip flagged chunks, and a chunk that
 * both pools run still completes once). De-escalation: the batch's next chunk messages go to
 * Spot again; copies already on the dedicated queue stay there, its capacity is paid for. The
 * escalation state, the route and `at_risk` are stored on the batch (written only when they
 * change), after the chunks moved, so a sweep cut short escalates again next time.
 */
async function applyRoute(deps: SweepDeps, r: Running, route: Route, report: SweepReport): Promise<void> {
  const batch = r.batch;
  const ref = { tenant: batch.tenant, batchId: batch.id };
  const was = routedPool(batch);
  let atRisk = batch.at_risk ?? false;
  if (route.pool === 'dedicated' && was !== 'dedicated') {
    let chunks = r.chunks;
    if (!chunks) {
      chunks = await deps.batches.listChunks(ref);
      report.chunkReads += 1;
    }
    const toEscalate = chunks.filter((c) => c.status !== 'done' && !c.escalated);
    if (toEscalate.length > 0) {
      await deps.queue.sendAll(
        poolQueueOf(catalogOf(deps.limits), batch.model, 'dedicated'),
        toEscalate.map((c) => chunkMessage(batch, c)),
      );
      await deps.batches.markEscalated(
        ref,
        toEscalate.map((c) => c.chunk),
      );
      atRisk = true; // markEscalated flags the batch
    }
    report.escalated.push({ batchId: batch.id, chunks: toEscalate.length });
  } else if (route.pool === 'spot' && was === 'dedicated') {
    report.deescalated.push(batch.id);
  }
  if (route.atRisk) report.atRisk.push(batch.id);
  const escalation = { escalated: route.escalation.escalated, since_ms: route.escalation.sinceMs };
  const fields: Partial<BatchRecord> = {};
  if (
    batch.escalation?.escalated !== escalation.escalated ||
    batch.escalation?.since_ms !== escalation.since_ms
  )
    fields.escalation = escalation;
  if (batch.route_pool !== route.pool) fields.route_pool = route.pool;
  if (atRisk !== route.atRisk) fields.at_risk = route.atRisk;
  if (Object.keys(fields).length > 0) await deps.batches.update(ref, fields);
}

/**
 * Expires each batch of `due` at its window's second: waits (`sleep`) until the clock reaches it,
 * then moves the batch from in_progress to finalizing (end_reason expired) and asks the finalizer
 * to write what it has, exactly as the sweep does for a batch past its window. A batch that ended
 * meanwhile is left alone (the transition is conditional). Returns the batches it expired.
 */
export async function expireOnTime(
  deps: Pick<Deps, 'batches' | 'queue' | 'clock'>,
  due: readonly DueBatch[],
  sleep: (ms: number) => Promise<void>,
): Promise<string[]> {
  const expired: string[] = [];
  for (const d of [...due].sort((a, b) => a.expiresAt - b.expiresAt)) {
    const waitMs = d.expiresAt * 1000 - deps.clock.now();
    if (waitMs > 0) await sleep(waitMs);
    const ref = { tenant: d.tenant, batchId: d.batchId };
    const nowS = Math.max(d.expiresAt, toUnixSeconds(deps.clock.now()));
    if (await deps.batches.transition(ref, 'finalizing', nowS, { end_reason: 'expired' }, ['in_progress'])) {
      await deps.queue.send('finalizing', ref);
      expired.push(d.batchId);
    }
  }
  return expired;
}
