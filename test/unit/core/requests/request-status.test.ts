import { describe, expect, it } from 'vitest';
import type { ChunkRecord } from '../../../../core/chunks/chunk-record.js';
import type { BatchStatus, ResultLine } from '../../../../core/openai/schemas.js';
import {
  attemptsOf,
  type ChunkResolution,
  chunkMayHave,
  chunkResolution,
  errorCodeOf,
  lineOfRequestId,
  poolOf,
  requestId,
  requestStatus,
  requestView,
  retrySelection,
  selects,
} from '../../../../core/requests/request-status.js';

const chunk = (over: Partial<ChunkRecord> = {}): ChunkRecord => ({
  batch_key: 'acme#batch_1',
  chunk: 0,
  byteStart: 0,
  byteEnd: 100,
  lineStart: 1,
  lineEnd: 10,
  requests: 10,
  status: 'pending',
  ...over,
});

const ok = (id = 'a', status = 200): ResultLine => ({
  id: 'batch_req_1',
  custom_id: id,
  response: { status_code: status, request_id: 'req_1', body: {} },
  error: null,
});
const http = (status: number, error: unknown): ResultLine => ({
  id: 'batch_req_2',
  custom_id: 'b',
  response: { status_code: status, request_id: 'req_2', body: { error } },
  error: null,
});
const errorOnly = (code: string): ResultLine => ({
  id: 'batch_req_3',
  custom_id: 'c',
  response: null,
  error: { code, message: 'm' },
});

describe('chunkResolution: how the lines of a chunk get their status', () => {
  const started = chunk({ checkpoint_key: 'k', checkpoint_lines: 3 });
  const interrupted = chunk({ interruptions: 1 });
  const fresh = chunk();
  const done = chunk({ status: 'done', completed: 9, failed: 1 });

  it.each<[string, BatchStatus, string | undefined, ChunkRecord, ChunkResolution]>([
    ['a done chunk, whatever the batch', 'in_progress', undefined, done, { kind: 'done' }],
    ['a done chunk of an expired batch', 'expired', 'expired', done, { kind: 'done' }],
    ['a done chunk of a cancelled batch', 'cancelled', 'cancelled', done, { kind: 'done' }],
    ['a chunk no worker started', 'in_progress', undefined, fresh, { kind: 'uniform', status: 'pending' }],
    [
      'a chunk of a batch still validating',
      'validating',
      undefined,
      fresh,
      { kind: 'uniform', status: 'pending' },
    ],
    ['a checkpointed chunk', 'in_progress', undefined, started, { kind: 'running' }],
    ['an interrupted chunk waiting to resume', 'in_progress', undefined, interrupted, { kind: 'running' }],
    ['unfinished in an expired batch', 'expired', 'expired', fresh, { kind: 'uniform', status: 'expired' }],
    [
      'checkpointed but unfinished in an expired batch',
      'expired',
      'expired',
      started,
      { kind: 'uniform', status: 'expired' },
    ],
    [
      'unfinished in a batch finalizing because it expired',
      'finalizing',
      'expired',
      started,
      { kind: 'uniform', status: 'expired' },
    ],
    [
      'unfinished in a cancelling batch',
      'cancelling',
      'cancelled',
      started,
      { kind: 'uniform', status: 'cancelled' },
    ],
    [
      'unfinished in a cancelled batch',
      'cancelled',
      'cancelled',
      fresh,
      { kind: 'uniform', status: 'cancelled' },
    ],
    ['a chunk of a batch that failed', 'failed', undefined, fresh, { kind: 'uniform', status: 'cancelled' }],
  ])('%s', (_, status, endReason, c, expected) => {
    expect(chunkResolution({ status, end_reason: endReason as 'expired' | undefined }, c)).toEqual(expected);
  });
});

describe('requestStatus: one line', () => {
  it('takes a uniform chunk status, whatever the line finished as', () => {
    expect(requestStatus({ kind: 'uniform', status: 'expired' }, 'succeeded')).toBe('expired');
    expect(requestStatus({ kind: 'uniform', status: 'pending' }, undefined)).toBe('pending');
    expect(requestStatus({ kind: 'uniform', status: 'cancelled' }, 'failed')).toBe('cancelled');
  });

  it('is running in a started chunk until its checkpoint holds it', () => {
    expect(requestStatus({ kind: 'running' }, undefined)).toBe('running');
    expect(requestStatus({ kind: 'running' }, 'succeeded')).toBe('succeeded');
    expect(requestStatus({ kind: 'running' }, 'failed')).toBe('failed');
  });

  it('is its result line in a done chunk, and a done line without one is an error', () => {
    expect(requestStatus({ kind: 'done' }, 'succeeded')).toBe('succeeded');
    expect(requestStatus({ kind: 'done' }, 'failed')).toBe('failed');
    expect(() => requestStatus({ kind: 'done' }, undefined)).toThrow(/no result line/);
  });
});

describe('chunkMayHave: chunks a status filter reads', () => {
  const done = chunk({ status: 'done', completed: 10, failed: 0 });
  it('skips a done chunk without failures for status=failed, reads it for succeeded', () => {
    expect(chunkMayHave({ kind: 'done' }, done, new Set(['failed']))).toBe(false);
    expect(chunkMayHave({ kind: 'done' }, done, new Set(['succeeded']))).toBe(true);
    expect(chunkMayHave({ kind: 'done' }, { completed: 0, failed: 10 }, new Set(['succeeded']))).toBe(false);
  });
  it('reads a running chunk for running, succeeded and failed only', () => {
    expect(chunkMayHave({ kind: 'running' }, {}, new Set(['failed']))).toBe(true);
    expect(chunkMayHave({ kind: 'running' }, {}, new Set(['pending', 'expired']))).toBe(false);
  });
  it('matches a uniform chunk by its status', () => {
    expect(chunkMayHave({ kind: 'uniform', status: 'expired' }, {}, new Set(['expired']))).toBe(true);
    expect(chunkMayHave({ kind: 'uniform', status: 'expired' }, {}, new Set(['failed']))).toBe(false);
  });
});

describe('pool, attempts, HTTP status and error code', () => {
  it('pool: the completing pool once done; dedicated once escalated; else unknown', () => {
    expect(poolOf(chunk({ status: 'done', pool: 'spot', escalated: true }))).toBe('spot');
    expect(poolOf(chunk({ escalated: true }))).toBe('dedicated');
    expect(poolOf(chunk())).toBeNull();
  });

  it('attempts: 0 before a start, then 1 + interruptions', () => {
    expect(attemptsOf(chunk())).toBe(0);
    expect(attemptsOf(chunk({ checkpoint_key: 'k' }))).toBe(1);
    expect(attemptsOf(chunk({ interruptions: 2 }))).toBe(3);
    expect(attemptsOf(chunk({ status: 'done' }))).toBe(1);
    expect(attemptsOf(chunk({ status: 'done', interruptions: 1 }))).toBe(2);
  });

  it('error code: the error line code, the body error code, else its type; none on success', () => {
    expect(errorCodeOf('succeeded', ok())).toBeNull();
    expect(errorCodeOf('failed', errorOnly('engine_unavailable'))).toBe('engine_unavailable');
    expect(
      errorCodeOf('failed', http(400, { code: 'context_length_exceeded', type: 'invalid_request_error' })),
    ).toBe('context_length_exceeded');
    expect(errorCodeOf('failed', http(500, { code: null, type: 'server_error' }))).toBe('server_error');
    expect(errorCodeOf('failed', http(502, 'bad gateway'))).toBeNull();
    expect(errorCodeOf('expired', undefined)).toBe('batch_expired');
    expect(errorCodeOf('cancelled', undefined)).toBeNull();
  });

  it('a row: a failed line of a done chunk carries its HTTP status and code', () => {
    const c = chunk({ status: 'done', pool: 'dedicated', interruptions: 1, completed: 9, failed: 1 });
    expect(
      requestView({
        chunk: c,
        resolution: { kind: 'done' },
        line: 7,
        customId: 'b',
        result: http(500, { code: null, type: 'server_error' }),
      }),
    ).toEqual({
      object: 'batch.request',
      id: 'line_7',
      custom_id: 'b',
      line: 7,
      status: 'failed',
      pool: 'dedicated',
      attempts: 2,
      http_status: 500,
      error_code: 'server_error',
      reused: false,
    });
  });

  it('a row: an expired line keeps no checkpointed result', () => {
    const view = requestView({
      chunk: chunk({ checkpoint_key: 'k' }),
      resolution: { kind: 'uniform', status: 'expired' },
      line: 3,
      customId: 'a',
      result: ok(),
    });
    expect(view).toMatchObject({
      status: 'expired',
      http_status: null,
      error_code: 'batch_expired',
      attempts: 1,
    });
  });

  it('a row: a done line whose output was not read is succeeded without an HTTP status', () => {
    const view = requestView({
      chunk: chunk({ status: 'done' }),
      resolution: { kind: 'done' },
      line: 1,
      customId: 'a',
      result: undefined,
      finished: 'succeeded',
    });
    expect(view).toMatchObject({ status: 'succeeded', http_status: null, error_code: null });
  });

  it('ids are line cursors', () => {
    expect(requestId(42)).toBe('line_42');
    expect(lineOfRequestId('line_42')).toBe(42);
  });
});

describe('retrySelection and selects', () => {
  const view = (over: Partial<ReturnType<typeof requestView>>) => ({
    ...requestView({
      chunk: chunk({ status: 'done' }),
      resolution: { kind: 'done' },
      line: 1,
      customId: 'a',
      result: ok(),
    }),
    ...over,
  });

  it('defaults to failed and expired', () => {
    const s = retrySelection({});
    expect(selects(s, view({ status: 'failed' }))).toBe(true);
    expect(selects(s, view({ status: 'expired' }))).toBe(true);
    expect(selects(s, view({ status: 'succeeded' }))).toBe(false);
    expect(selects(s, view({ status: 'cancelled' }))).toBe(false);
  });

  it('custom_ids choose lines whatever their status, unless statuses narrows them', () => {
    expect(selects(retrySelection({ custom_ids: ['a'] }), view({ status: 'succeeded' }))).toBe(true);
    expect(selects(retrySelection({ custom_ids: ['b'] }), view({ status: 'failed' }))).toBe(false);
    expect(
      selects(retrySelection({ custom_ids: ['a'], statuses: ['failed'] }), view({ status: 'succeeded' })),
    ).toBe(false);
  });

  it('error codes and HTTP statuses must both hold when given; a request without one never matches', () => {
    const s = retrySelection({ error_codes: ['server_error'], http_statuses: [500] });
    expect(selects(s, view({ status: 'failed', error_code: 'server_error', http_status: 500 }))).toBe(true);
    expect(selects(s, view({ status: 'failed', error_code: 'server_error', http_status: 503 }))).toBe(false);
    expect(selects(s, view({ status: 'expired', error_code: 'batch_expired', http_status: null }))).toBe(
      false,
    );
    expect(
      selects(
        retrySelection({ error_codes: ['batch_expired'] }),
        view({ status: 'expired', error_code: 'batch_expired' }),
      ),
    ).toBe(true);
  });

  it('statuses can add cancelled requests', () => {
    expect(selects(retrySelection({ statuses: ['cancelled'] }), view({ status: 'cancelled' }))).toBe(true);
  });
});
