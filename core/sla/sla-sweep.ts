import type { Deps } from '../app/deps.js';
import type { BatchRecord } from '../batches/batch-record.js';
import { FINALIZER_LEASE_S } from '../batches/finalize-batch.js';
import { chunkMessage } from '../batches/schedule-batch.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { allChunksDone, type ChunkRecord } from '../chunks/chunk-record.js';
import { toUnixSeconds } from '../clock.js';
import type { BatchStatus } from '../openai/schemas.js';
import { isAtRisk } from './policy.js';

type SweepDeps = Pick<Deps, 'batches' | 'queue' | 'clock' | 'sla'>;

export interface SweepReport {
  /** Running batches seen, by status. */
  active: Partial<Record<BatchStatus, number>>;
  expired: string[];
  /** Batches stuck validating whose scheduling message was sent again, and those failed after. */
  redriven: string[];
  stalled: string[];
  escalated: { batchId: string; chunks: number }[];
  finalizeRequested: string[];
  /** Batches whose chunk records were read (the rest were judged from their counters). */
  chunkReads: number;
}

/** A batch stuck in finalizing or cancelling after a finalizer's claim ran out gets its finalize message again. */
const STUCK_AFTER_S = FINALIZER_LEASE_S;

/**
 * The SLA monitor's pass over running batches: expires those past their completion window,
 * sends the pending chunks of at-risk batches to dedicated capacity, and re-requests
 * finalization where every chunk is done but no finalizer ran (a lost message).
 */
export async function slaSweep(deps: SweepDeps): Promise<SweepReport> {
  const report: SweepReport = {
    active: {},
    expired: [],
    redriven: [],
    stalled: [],
    escalated: [],
    finalizeRequested: [],
    chunkReads: 0,
  };
  const now = deps.clock.now();
  const nowS = toUnixSeconds(now);
  const finalize = async (ref: BatchRef) => {
    await deps.queue.send('finalizing', ref);
    report.finalizeRequested.push(ref.batchId);
  };

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
    // Escalation flags every pending chunk at once and marks the batch at_risk after the last
    // flag, and a chunk never goes back to pending: an at_risk batch has nothing left to send.
    if (batch.at_risk) continue;
    const elapsedS = Math.max(1, nowS - (batch.in_progress_at ?? nowS));
    const doneRequests = chunks
      ? chunks.reduce((n, c) => n + (c.status === 'done' ? c.requests : 0), 0)
      : (batch.completed ?? 0) + (batch.failed ?? 0);
    const atRisk = isAtRisk(
      {
        nowMs: now,
        deadlineMs: batch.expires_at * 1000,
        remainingRequests: batch.total - doneRequests,
        requestsPerSecond: Math.max(doneRequests / elapsedS, deps.sla.SLA_ASSUMED_REQUESTS_PER_SECOND),
      },
      deps.sla,
    );
    if (!atRisk) continue;
    if (!chunks) {
      chunks = await deps.batches.listChunks(ref);
      report.chunkReads += 1;
    }
    const toEscalate = chunks.filter((c) => c.status !== 'done' && !c.escalated);
    if (toEscalate.length === 0) continue;
    // Dedicated workers take copies of the chunks; spot workers skip escalated ones, and a chunk
    // that both run still completes once.
    await deps.queue.sendAll(
      'dedicated',
      toEscalate.map((c) => chunkMessage(batch, c)),
    );
    await deps.batches.markEscalated(
      ref,
      toEscalate.map((c) => c.chunk),
    );
    report.escalated.push({ batchId: batch.id, chunks: toEscalate.length });
  }
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
