import { describe, expect, it } from 'vitest';
import {
  type BatchRecord,
  completionWindowMs,
  newBatchRecord,
  slaState,
  toBatchObject,
} from '../../../../core/batches/batch-record.js';
import type { BatchStatus } from '../../../../core/openai/schemas.js';

const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const NOW_S = Math.floor(NOW_MS / 1000);
const DAY_MS = 86_400_000;

const fresh = (overrides: Partial<Parameters<typeof newBatchRecord>[0]> = {}) =>
  newBatchRecord({
    tenant: 'acme',
    id: 'batch_1',
    endpoint: '/v1/chat/completions',
    inputFileId: 'file-1',
    inputKey: 'acme/files/file-1.jsonl',
    inputBytes: 2048,
    completionWindow: '24h',
    windowMs: DAY_MS,
    metadata: { team: 'search' },
    priority: undefined,
    nowMs: NOW_MS,
    ...overrides,
  });

describe('newBatchRecord', () => {
  it('starts a batch validating, active, with zero counts and unix-second timestamps', () => {
    expect(fresh()).toEqual({
      tenant: 'acme',
      id: 'batch_1',
      endpoint: '/v1/chat/completions',
      input_file_id: 'file-1',
      input_key: 'acme/files/file-1.jsonl',
      input_bytes: 2048,
      completion_window: '24h',
      status: 'validating',
      created_at: NOW_S,
      expires_at: NOW_S + 86_400,
      total: 0,
      completed: 0,
      failed: 0,
      metadata: { team: 'search' },
      priority: 'normal',
      active: 'yes',
    });
  });

  it('floors milliseconds to seconds, for created_at and expires_at alike', () => {
    const r = fresh({ nowMs: 1_999, windowMs: 1_500 });
    expect(r.created_at).toBe(1);
    expect(r.expires_at).toBe(3);
  });

  it('stores null metadata when none or null is given', () => {
    expect(fresh({ metadata: undefined }).metadata).toBeNull();
    expect(fresh({ metadata: null }).metadata).toBeNull();
  });

  it('keeps a high priority', () => {
    expect(fresh({ priority: 'high' }).priority).toBe('high');
  });
});

describe('toBatchObject', () => {
  it("renders a new batch as OpenAI's batch object, with nulls for what has not happened", () => {
    expect(toBatchObject(fresh())).toEqual({
      id: 'batch_1',
      object: 'batch',
      endpoint: '/v1/chat/completions',
      errors: null,
      input_file_id: 'file-1',
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: NOW_S,
      in_progress_at: null,
      expires_at: NOW_S + 86_400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: { team: 'search' },
      usage: {
        input_tokens: 0,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 0,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 0,
      },
      openbatch: {
        priority: 'normal',
        sla: { deadline_at: NOW_S + 86_400, state: 'on_track' },
        pools: { spot: 0, dedicated: 0 },
        pool_group: null,
        route: null,
        chunks: { total: 0, done: 0, escalated: 0, interruptions: 0 },
        retry_of: null,
        retries: [],
        cost: {
          estimate: true,
          currency: 'usd',
          total: 0,
          by_pool: { spot: 0, dedicated: 0 },
          all_dedicated: 0,
          saving: 0,
          saved_by_reuse: 0,
          basis: expect.stringContaining('requests/s per task'),
        },
        dedup: 'off',
        reused: 0,
      },
    });
  });

  it('renders a completed batch with its files, timestamps, counts, model and extension counters', () => {
    const record: BatchRecord = {
      ...fresh(),
      status: 'completed',
      in_progress_at: NOW_S + 1,
      finalizing_at: NOW_S + 50,
      completed_at: NOW_S + 60,
      total: 10,
      completed: 9,
      failed: 1,
      output_file_id: 'file-out',
      error_file_id: 'file-err',
      model: 'llama-3',
      chunk_count: 3,
      chunks_done: 3,
      chunks_escalated: 1,
      interruptions: 2,
      spot_requests: 7,
      dedicated_requests: 3,
      enqueued: true,
      end_reason: 'completed',
    };
    const obj = toBatchObject(record);
    expect(obj).toMatchObject({
      status: 'completed',
      output_file_id: 'file-out',
      error_file_id: 'file-err',
      in_progress_at: NOW_S + 1,
      finalizing_at: NOW_S + 50,
      completed_at: NOW_S + 60,
      request_counts: { total: 10, completed: 9, failed: 1 },
      model: 'llama-3',
      openbatch: {
        priority: 'normal',
        sla: { deadline_at: NOW_S + 86_400, state: 'met' },
        pools: { spot: 7, dedicated: 3 },
        chunks: { total: 3, done: 3, escalated: 1, interruptions: 2 },
      },
    });
  });

  it('leaves storage-only fields out of the API object', () => {
    const obj = toBatchObject({ ...fresh(), enqueued: true, end_reason: 'cancelled', at_risk: true });
    for (const field of ['tenant', 'active', 'enqueued', 'end_reason', 'at_risk', 'total', 'priority']) {
      expect(obj).not.toHaveProperty(field);
    }
  });

  it('names the batch a retry came from and the retries made of it, in the extension', () => {
    const obj = toBatchObject({ ...fresh(), retry_of: 'batch_source', retries: ['batch_r1', 'batch_r2'] });
    expect(obj.openbatch).toMatchObject({ retry_of: 'batch_source', retries: ['batch_r1', 'batch_r2'] });
    expect(obj).not.toHaveProperty('retry_of');
  });

  it('omits model when the record has none', () => {
    expect(toBatchObject(fresh())).not.toHaveProperty('model');
  });

  it("wraps errors in OpenAI's list shape, and renders an empty error list as null", () => {
    const error = { code: 'invalid_json_line', message: 'bad', param: null, line: 3 };
    expect(toBatchObject({ ...fresh(), status: 'failed', errors: [error] }).errors).toEqual({
      object: 'list',
      data: [error],
    });
    expect(toBatchObject({ ...fresh(), errors: [] }).errors).toBeNull();
  });

  it('renders missing metadata as null', () => {
    const { metadata: _, ...withoutMetadata } = fresh();
    expect(toBatchObject(withoutMetadata).metadata).toBeNull();
  });
});

describe('slaState', () => {
  it.each<[BatchStatus, boolean, ReturnType<typeof slaState>]>([
    ['validating', false, 'on_track'],
    ['in_progress', false, 'on_track'],
    ['finalizing', false, 'on_track'],
    ['in_progress', true, 'at_risk'],
    ['validating', true, 'at_risk'],
    ['finalizing', true, 'at_risk'],
    ['completed', false, 'met'],
    ['completed', true, 'met'],
    ['expired', false, 'breached'],
    ['expired', true, 'breached'],
    ['failed', true, null],
    ['cancelling', true, null],
    ['cancelled', false, null],
  ])('a %s batch (at_risk %s) is %s', (status, atRisk, state) => {
    expect(slaState({ ...fresh(), status, at_risk: atRisk })).toBe(state);
    expect(toBatchObject({ ...fresh(), status, at_risk: atRisk }).openbatch.sla.state).toBe(state);
  });
});

describe('completionWindowMs', () => {
  it.each([
    ['24h', DAY_MS],
    ['1h', 3_600_000],
    ['90m', 5_400_000],
    ['30s', 30_000],
    ['168h', 7 * DAY_MS],
    ['1d', DAY_MS],
    ['7d', 7 * DAY_MS],
  ])('parses %s', (window, ms) => {
    expect(completionWindowMs(window)).toBe(ms);
  });

  it.each([
    '',
    '24',
    'h',
    '24H',
    '1D',
    '0h',
    '024h',
    '1w',
    '1.5h',
    '-1h',
    ' 24h',
    '24h ',
    '24hours',
    'twenty-four hours',
  ])('rejects %j', (window) => {
    expect(completionWindowMs(window)).toBeUndefined();
  });
});
