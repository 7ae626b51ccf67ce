import type { BatchRecord } from '../batches/batch-record.js';
import type { ChunkRecord } from '../chunks/chunk-record.js';
import { lineInBitmap } from '../dedup/line-bitmap.js';
import type { BatchRequestView, RequestStatus, ResultLine } from '../openai/schemas.js';
import { isSuccess } from '../results/result-lines.js';

/**
 * The per-request view's rules, pure. A request has no record of its own: its state follows
 * from its batch, its chunk's record and, once it has run, its result line.
 *
 * - A line of a done chunk is `succeeded` (a 2xx response) or `failed` (any other line), from
 *   its line in the chunk's output or error part (or the final files, once the batch ended).
 * - A line of a chunk not done:
 *   - in an expired batch (or one finalizing because it expired): `expired`, checkpointed or
 *     not, as the finalizer writes `batch_expired` for every line of an unfinished chunk;
 *   - in a cancelling or cancelled batch (or a failed one, whose requests never run): `cancelled`;
 *   - otherwise, once the chunk has started (it has a checkpoint or an interruption): the
 *     line's checkpointed result when it has one (it is final: no later attempt runs it again),
 *     else `running`;
 *   - otherwise `pending`.
 */
export type ChunkResolution =
  | { readonly kind: 'uniform'; readonly status: 'pending' | 'expired' | 'cancelled' }
  | { readonly kind: 'running' }
  | { readonly kind: 'done' };

type BatchState = Pick<BatchRecord, 'status' | 'end_reason'>;
type ChunkState = Pick<ChunkRecord, 'status' | 'checkpoint_key' | 'interruptions'>;

/** Whether a worker has started the chunk: it left a checkpoint or was interrupted. */
export const chunkStarted = (chunk: ChunkState): boolean =>
  chunk.checkpoint_key !== undefined || (chunk.interruptions ?? 0) > 0;

/** How the lines of one chunk get their status, from the batch and the chunk record alone. */
export function chunkResolution(batch: BatchState, chunk: ChunkState): ChunkResolution {
  if (chunk.status === 'done') return { kind: 'done' };
  if (batch.status === 'expired' || (batch.status === 'finalizing' && batch.end_reason === 'expired'))
    return { kind: 'uniform', status: 'expired' };
  if (batch.status === 'cancelling' || batch.status === 'cancelled' || batch.status === 'failed')
    return { kind: 'uniform', status: 'cancelled' };
  return chunkStarted(chunk) ? { kind: 'running' } : { kind: 'uniform', status: 'pending' };
}

/** `succeeded` for a 2xx response line, `failed` for any other result line. */
export const outcomeOf = (result: ResultLine): 'succeeded' | 'failed' =>
  isSuccess(result) ? 'succeeded' : 'failed';

/**
 * One line's status. `finished` is the line's outcome when it has a result (a done chunk's
 * part, or a running chunk's checkpoint); a done chunk's line always has one.
 */
export function requestStatus(
  resolution: ChunkResolution,
  finished: 'succeeded' | 'failed' | undefined,
): RequestStatus {
  switch (resolution.kind) {
    case 'uniform':
      return resolution.status;
    case 'running':
      return finished ?? 'running';
    case 'done':
      if (!finished) throw new Error('A line of a done chunk has no result line');
      return finished;
  }
}

/**
 * Whether any line of a chunk can have one of `wanted`, judged from the chunk record alone:
 * a page filtered by status reads no object of a chunk that cannot match.
 */
export function chunkMayHave(
  resolution: ChunkResolution,
  chunk: Pick<ChunkRecord, 'completed' | 'failed'>,
  wanted: ReadonlySet<RequestStatus>,
): boolean {
  switch (resolution.kind) {
    case 'uniform':
      return wanted.has(resolution.status);
    case 'running':
      return wanted.has('running') || wanted.has('succeeded') || wanted.has('failed');
    case 'done':
      return (
        (wanted.has('succeeded') && (chunk.completed ?? 0) > 0) ||
        (wanted.has('failed') && (chunk.failed ?? 0) > 0)
      );
  }
}

/**
 * Where a chunk runs or ran: the pool that completed it; before that, dedicated once it was
 * escalated there; otherwise not known (spot or dedicated, whichever worker takes it).
 */
export function poolOf(
  chunk: Pick<ChunkRecord, 'status' | 'pool' | 'escalated'>,
): 'spot' | 'dedicated' | null {
  if (chunk.status === 'done') return chunk.pool ?? null;
  return chunk.escalated ? 'dedicated' : null;
}

/**
 * How many times the request's chunk was started: 1 + its interruptions once it has started
 * (done, checkpointed or interrupted; an interrupted chunk waiting to resume counts the attempt
 * it resumes in), else 0. Engine retries within an attempt are not counted.
 */
export function attemptsOf(chunk: ChunkState): number {
  return chunk.status === 'done' || chunkStarted(chunk) ? 1 + (chunk.interruptions ?? 0) : 0;
}

/** The HTTP status the engine answered, when it answered. */
export const httpStatusOf = (result: ResultLine | undefined): number | null =>
  result?.response?.status_code ?? null;

/**
 * The error code of a request that did not succeed: the error line's `code` (such as
 * `batch_expired` or `engine_unavailable`); for a non-2xx response, its body's `error.code`,
 * else its `error.type` (OpenAI's servers answer `server_error` with a null code).
 */
export function errorCodeOf(status: RequestStatus, result: ResultLine | undefined): string | null {
  if (status === 'expired') return 'batch_expired';
  if (!result || isSuccess(result)) return null;
  if (result.error) return result.error.code;
  const error = (result.response?.body as { error?: { code?: unknown; type?: unknown } } | null)?.error;
  if (typeof error?.code === 'string') return error.code;
  if (typeof error?.type === 'string') return error.type;
  return null;
}

/** The cursor of a request: `line_<line>`. */
export const requestId = (line: number): string => `line_${line}`;

/** The line a cursor names (ids are checked by the schema at the edge). */
export const lineOfRequestId = (id: string): number => Number(id.slice('line_'.length));

/** A request's row, from its chunk, its line and, when it has one, its result line. */
export function requestView(input: {
  chunk: ChunkRecord;
  resolution: ChunkResolution;
  line: number;
  customId: string;
  result: ResultLine | undefined;
  /** A done line's outcome when its result line was not read (its chunk's output part skipped). */
  finished?: 'succeeded' | 'failed';
  /** A running chunk's line that its checkpoint says was answered by reuse. */
  reused?: boolean;
}): BatchRequestView {
  const finished = input.result ? outcomeOf(input.result) : input.finished;
  const status = requestStatus(input.resolution, finished);
  // An expired or cancelled line's checkpointed result was never delivered: it has none.
  const result = input.resolution.kind === 'uniform' ? undefined : input.result;
  return {
    object: 'batch.request',
    id: requestId(input.line),
    custom_id: input.customId,
    line: input.line,
    status,
    pool: poolOf(input.chunk),
    attempts: attemptsOf(input.chunk),
    http_status: httpStatusOf(result),
    error_code: errorCodeOf(status, result),
    reused: reusedOf(input.chunk, input.resolution, input.line, input.reused),
  };
}

/**
 * Whether a line was answered by reuse (deduplication): a done chunk's lines from its record's
 * bitmap; a running chunk's from its checkpoint; never a line whose result was not delivered.
 */
export function reusedOf(
  chunk: Pick<ChunkRecord, 'lineStart' | 'reused_lines'>,
  resolution: ChunkResolution,
  line: number,
  checkpointed: boolean | undefined,
): boolean {
  switch (resolution.kind) {
    case 'done':
      return lineInBitmap(chunk.reused_lines, chunk.lineStart, line);
    case 'running':
      return checkpointed === true;
    case 'uniform':
      return false;
  }
}

/** What a retry runs again: every criterion given must hold. */
export interface RetrySelection {
  statuses: ReadonlySet<RequestStatus>;
  customIds?: ReadonlySet<string>;
  errorCodes?: ReadonlySet<string>;
  httpStatuses?: ReadonlySet<number>;
}

/** Statuses a retry may run again: those of requests that will never run in their batch. */
export const RETRYABLE_STATUSES: readonly RequestStatus[] = ['succeeded', 'failed', 'expired', 'cancelled'];

/**
 * The selection a retry body asks for. By default the failed and expired requests; naming
 * `custom_ids` selects those lines whatever their status, unless `statuses` says otherwise.
 */
export function retrySelection(body: {
  custom_ids?: readonly string[] | undefined;
  statuses?: readonly RequestStatus[] | undefined;
  error_codes?: readonly string[] | undefined;
  http_statuses?: readonly number[] | undefined;
}): RetrySelection {
  const statuses = body.statuses ?? (body.custom_ids ? RETRYABLE_STATUSES : ['failed', 'expired']);
  return {
    statuses: new Set(statuses),
    ...(body.custom_ids ? { customIds: new Set(body.custom_ids) } : {}),
    ...(body.error_codes ? { errorCodes: new Set(body.error_codes) } : {}),
    ...(body.http_statuses ? { httpStatuses: new Set(body.http_statuses) } : {}),
  };
}

export function selects(selection: RetrySelection, view: BatchRequestView): boolean {
  if (!selection.statuses.has(view.status)) return false;
  if (selection.customIds && !selection.customIds.has(view.custom_id)) return false;
  if (selection.errorCodes && (view.error_code === null || !selection.errorCodes.has(view.error_code)))
    return false;
  if (selection.httpStatuses && (view.http_status === null || !selection.httpStatuses.has(view.http_status)))
    return false;
  return true;
}
