import type { BatchStatus } from '../openai/schemas.js';

/** Status machine of a batch, as OpenAI documents it. Pure: callers persist the result. */
const allowed: Readonly<Record<BatchStatus, readonly BatchStatus[]>> = {
  validating: ['in_progress', 'failed', 'cancelling'],
  in_progress: ['finalizing', 'cancelling'],
  finalizing: ['completed', 'expired'],
  cancelling: ['cancelled'],
  failed: [],
  completed: [],
  expired: [],
  cancelled: [],
};

export const TERMINAL_STATUSES: readonly BatchStatus[] = ['failed', 'completed', 'expired', 'cancelled'];

export const isTerminal = (status: BatchStatus): boolean => TERMINAL_STATUSES.includes(status);

export const canTransition = (from: BatchStatus, to: BatchStatus): boolean => allowed[from].includes(to);

/** The statuses a batch may be in for `to` to be reached (the condition of a conditional write). */
export const predecessorsOf = (to: BatchStatus): BatchStatus[] =>
  (Object.keys(allowed) as BatchStatus[]).filter((from) => allowed[from].includes(to));

/** Which timestamp field records entry into each status. */
export const timestampField = {
  validating: 'created_at',
  in_progress: 'in_progress_at',
  finalizing: 'finalizing_at',
  completed: 'completed_at',
  failed: 'failed_at',
  expired: 'expired_at',
  cancelling: 'cancelling_at',
  cancelled: 'cancelled_at',
} as const satisfies Record<BatchStatus, string>;

/** How a batch that reached `finalizing` or `cancelling` ends. */
export type EndReason = 'completed' | 'expired' | 'cancelled';

/** Cancel is accepted while work can still be stopped; repeating it is harmless. */
export function cancelOutcome(status: BatchStatus): 'cancel' | 'already-cancelling' | 'conflict' {
  if (status === 'cancelling' || status === 'cancelled') return 'already-cancelling';
  return canTransition(status, 'cancelling') ? 'cancel' : 'conflict';
}
