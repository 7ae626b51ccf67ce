import { describe, expect, it } from 'vitest';
import { cancelBatch, getBatchRecord } from '../../../../core/batches/batches-service.js';
import { finalizeBatch } from '../../../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { BatchRef, ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import { toUnixSeconds } from '../../../../core/clock.js';
import { ApiError } from '../../../../core/errors.js';
import type { BatchRequestView } from '../../../../core/openai/schemas.js';
import {
  getRequest,
  listRequests,
  MAX_CHUNKS_READ_PER_PAGE,
  retryBatch,
} from '../../../../core/requests/requests-service.js';
import type { Engine } from '../../../../gpu-worker/src/engine/engine.js';
import { runChunk } from '../../../../gpu-worker/src/run-chunk.js';
import { createdBatch, type FakeDeps, fakeDeps, jsonlOf } from '../../../support/fakes.js';

/** Answers every request, but 500 (OpenAI's server_error) for the prompts in `failing`. */
const engine = (failing: ReadonlySet<string>): Engine => ({
  name: 'fake',
  send: async (_path, body) => {
    const prompt = (body.messages as { content: string }[])[0]?.content ?? '';
    return failing.has(prompt)
      ? { status: 500, body: { error: { message: 'boom', type: 'server_error', param: null, code: null } } }
      : { status: 200, body: { choices: [{ message: { content: `answer to ${prompt}` } }] } };
  },
});

const run = (
  deps: FakeDeps,
  m: ChunkMessage,
  failing: ReadonlySet<string> = new Set(),
  interruptAfter?: number,
) =>
  runChunk(deps, m, {
    pool: 'spot',
    engine: engine(failing),
    concurrency: 1,
    maxRetries: 0,
    stop: new AbortController().signal,
    ...(interruptAfter !== undefined ? { simulateInterruptionAfter: interruptAfter } : {}),
  });

/** 9 requests in chunks of 3: req-1 and req-4 fail. */
const FAILING = new Set(['q1', 'q4']);

async function batchOf(deps: FakeDeps, n = 9, metadata?: Record<string, string>) {
  const { ref } = await createdBatch(deps, jsonlOf(n), metadata ? { metadata } : {});
  await scheduleBatch(deps, ref);
  return { ref, msgs: deps.queue.take<ChunkMessage>('spot') };
}

async function all(deps: FakeDeps, ref: BatchRef, query: { status?: BatchRequestView['status'] } = {}) {
  const out: BatchRequestView[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listRequests(deps, ref, { limit: 2, ...query, ...(after ? { after } : {}) });
    out.push(...page.data);
    if (!page.has_more) return out;
    after = page.last_id ?? undefined;
  }
}

const statuses = (views: BatchRequestView[]) => views.map((v) => `${v.custom_id}:${v.status}`);

/** Counts GETs on the input file and on everything else. */
function countReads(deps: FakeDeps) {
  const counts = { input: 0, other: 0 };
  const stream = deps.blobs.stream.bind(deps.blobs);
  deps.blobs.stream = async (key, range) => {
    if (key.includes('/files/file-000001')) counts.input += 1;
    else counts.other += 1;
    return stream(key, range);
  };
  return counts;
}

describe('listRequests while the batch runs', () => {
  it('maps done, running (checkpointed) and pending chunks line by line, in input order', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    await run(deps, msgs[0] as ChunkMessage, FAILING);
    // Interrupted after one line: the checkpoint holds req-3, the rest of the chunk is running.
    expect((await run(deps, msgs[1] as ChunkMessage, FAILING, 1)).outcome).toBe('handed-off');

    const page = await listRequests(deps, ref, { limit: 100 });
    expect(statuses(page.data)).toEqual([
      'req-0:succeeded',
      'req-1:failed',
      'req-2:succeeded',
      'req-3:succeeded',
      'req-4:running',
      'req-5:running',
      'req-6:pending',
      'req-7:pending',
      'req-8:pending',
    ]);
    expect(page).toMatchObject({ object: 'list', first_id: 'line_1', last_id: 'line_9', has_more: false });
    expect(page.data[1]).toEqual({
      object: 'batch.request',
      id: 'line_2',
      custom_id: 'req-1',
      line: 2,
      status: 'failed',
      pool: 'spot',
      attempts: 1,
      http_status: 500,
      error_code: 'server_error',
      reused: false,
    });
    // Handed off after the interruption, but not escalated: where it resumes is not known yet.
    expect(page.data[3]).toMatchObject({ attempts: 2, http_status: 200, error_code: null, pool: null });
    expect(page.data[6]).toMatchObject({ attempts: 0, http_status: null, pool: null });
  });

  it('pages with after and limit, and filters by status and custom_id', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    for (const m of msgs.slice(0, 2)) await run(deps, m, FAILING);

    const first = await listRequests(deps, ref, { limit: 4 });
    expect(first.data.map((v) => v.line)).toEqual([1, 2, 3, 4]);
    expect(first).toMatchObject({ first_id: 'line_1', last_id: 'line_4', has_more: true });
    const second = await listRequests(deps, ref, { limit: 4, after: 'line_4' });
    expect(second.data.map((v) => v.line)).toEqual([5, 6, 7, 8]);
    const last = await listRequests(deps, ref, { limit: 4, after: 'line_8' });
    expect(last).toMatchObject({ first_id: 'line_9', last_id: 'line_9', has_more: false });

    expect(statuses(await all(deps, ref, { status: 'failed' }))).toEqual(['req-1:failed', 'req-4:failed']);
    expect(statuses(await all(deps, ref, { status: 'pending' }))).toEqual([
      'req-6:pending',
      'req-7:pending',
      'req-8:pending',
    ]);
    expect(statuses((await listRequests(deps, ref, { limit: 20, custom_id: 'req-4' })).data)).toEqual([
      'req-4:failed',
    ]);
    expect(
      (await listRequests(deps, ref, { limit: 20, custom_id: 'req-4', status: 'succeeded' })).data,
    ).toEqual([]);
    expect((await listRequests(deps, ref, { limit: 20, custom_id: 'nope' })).data).toEqual([]);
  });

  it('reads only the chunks a page covers, and none a status filter rules out', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps, 30);
    for (const m of msgs) await run(deps, m, new Set(['q25']));
    const reads = countReads(deps);
    await listRequests(deps, ref, { limit: 2, after: 'line_12' });
    // Lines 13 and 14 are in chunk 4, and whether more follow is in the same chunk.
    expect(reads).toEqual({ input: 1, other: 1 });

    reads.input = 0;
    reads.other = 0;
    const failed = await listRequests(deps, ref, { limit: 20, status: 'failed' });
    expect(statuses(failed.data)).toEqual(['req-25:failed']);
    // Only chunk 8 (lines 25 to 27) has a failure: its input, output and error lines.
    expect(reads).toEqual({ input: 1, other: 2 });
  });

  it('bounds the chunks one page reads, and says there is more', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '2' });
    const { ref, msgs } = await batchOf(deps, 40);
    for (const m of msgs) await run(deps, m);
    const reads = countReads(deps);
    const page = await listRequests(deps, ref, { limit: 100 });
    expect(page.data).toHaveLength(2 * MAX_CHUNKS_READ_PER_PAGE);
    expect(page.has_more).toBe(true);
    expect(reads.input).toBe(MAX_CHUNKS_READ_PER_PAGE);
    const next = await listRequests(deps, ref, { limit: 100, after: page.last_id ?? '' });
    expect(next.data[0]?.line).toBe(2 * MAX_CHUNKS_READ_PER_PAGE + 1);
  });
});

describe('after the batch ended: from the final output and error files', () => {
  async function completed(deps: FakeDeps, n = 9) {
    const { ref, msgs } = await batchOf(deps, n, { team: 'search' });
    for (const m of [...msgs].reverse()) await run(deps, m, FAILING);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    return ref;
  }

  it('lists the same statuses once the parts are gone, reading each chunk lines by byte range', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const ref = await completed(deps);
    expect([...deps.blobs.objects.keys()].some((k) => k.includes('/parts/'))).toBe(false);
    const ranges: (string | undefined)[] = [];
    const stream = deps.blobs.stream.bind(deps.blobs);
    deps.blobs.stream = async (key, range) => {
      if (!key.includes('file-000001')) ranges.push(range && `${range.start}-${range.end}`);
      return stream(key, range);
    };
    const page = await listRequests(deps, ref, { limit: 3, after: 'line_3' });
    expect(statuses(page.data)).toEqual(['req-3:succeeded', 'req-4:failed', 'req-5:succeeded']);
    expect(page.data[1]).toMatchObject({ http_status: 500, error_code: 'server_error' });
    // Chunk 1's output lines and error line, each a byte range of its file, not the whole file.
    expect(ranges).toHaveLength(2);
    expect(ranges.every((r) => r !== undefined && !r.startsWith('0-'))).toBe(true);
  });

  it('returns one request with its input body and its output or error line', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const ref = await completed(deps);
    const ok = await getRequest(deps, ref, 'req-5');
    expect(ok).toMatchObject({
      custom_id: 'req-5',
      line: 6,
      status: 'succeeded',
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: [{ role: 'user', content: 'q5' }] },
      result: { custom_id: 'req-5', response: { status_code: 200, body: { choices: [{}] } }, error: null },
    });
    const failed = await getRequest(deps, ref, 'req-4');
    expect(failed.result).toMatchObject({ custom_id: 'req-4', response: { status_code: 500 } });
    await expect(getRequest(deps, ref, 'req-99')).rejects.toMatchObject({ status: 404, param: 'custom_id' });
  });

  it('an expired batch: unfinished chunks are expired, with the batch_expired line of the error file', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    await run(deps, msgs[1] as ChunkMessage, FAILING);
    await run(deps, msgs[2] as ChunkMessage, FAILING, 1); // checkpointed, then the window ends
    await deps.batches.transition(
      ref,
      'finalizing',
      toUnixSeconds(deps.clock.now()),
      { end_reason: 'expired' },
      ['in_progress'],
    );
    expect(statuses(await all(deps, ref))).toEqual([
      'req-0:expired',
      'req-1:expired',
      'req-2:expired',
      'req-3:succeeded',
      'req-4:failed',
      'req-5:succeeded',
      'req-6:expired',
      'req-7:expired',
      'req-8:expired',
    ]);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    expect((await getBatchRecord(deps, ref)).status).toBe('expired');
    const views = await all(deps, ref);
    expect(statuses(views)).toContain('req-7:expired');
    expect(views[7]).toMatchObject({ error_code: 'batch_expired', http_status: null, attempts: 2 });
    const expired = await getRequest(deps, ref, 'req-7');
    expect(expired.result).toMatchObject({
      custom_id: 'req-7',
      response: null,
      error: { code: 'batch_expired' },
    });
    expect((await getRequest(deps, ref, 'req-1')).result).toMatchObject({
      custom_id: 'req-1',
      error: { code: 'batch_expired' },
    });
    expect((await getRequest(deps, ref, 'req-4')).result).toMatchObject({ response: { status_code: 500 } });
  });

  it('a cancelled batch: what never ran is cancelled, without a result', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    await run(deps, msgs[0] as ChunkMessage, FAILING);
    await cancelBatch(deps, ref);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    expect(statuses(await all(deps, ref))).toEqual([
      'req-0:succeeded',
      'req-1:failed',
      'req-2:succeeded',
      ...[3, 4, 5, 6, 7, 8].map((i) => `req-${i}:cancelled`),
    ]);
    expect((await getRequest(deps, ref, 'req-6')).result).toBeNull();
  });

  it('reads the final files when the batch ends while a page is being read (its parts deleted)', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    for (const m of msgs) await run(deps, m, FAILING);
    expect((await getBatchRecord(deps, ref)).status).toBe('in_progress');
    const stream = deps.blobs.stream.bind(deps.blobs);
    let finalized = false;
    deps.blobs.stream = async (key, range) => {
      if (key.includes('/parts/') && !finalized) {
        finalized = true;
        expect(await finalizeBatch(deps, ref)).toBe('finalized');
      }
      return stream(key, range);
    };
    const page = await listRequests(deps, ref, { limit: 100 });
    expect(finalized).toBe(true);
    expect(statuses(page.data).filter((s) => s.endsWith('failed'))).toEqual(['req-1:failed', 'req-4:failed']);
  });

  it('answers 404 when the output file is gone', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const ref = await completed(deps);
    const batch = await getBatchRecord(deps, ref);
    deps.blobs.objects.delete(`acme/files/${batch.output_file_id}.jsonl`);
    await expect(listRequests(deps, ref, { limit: 5 })).rejects.toMatchObject({ status: 404 });
  });
});

describe('retryBatch', () => {
  async function completed(deps: FakeDeps) {
    const { ref, msgs } = await batchOf(deps, 9, { team: 'search' });
    for (const m of msgs) await run(deps, m, FAILING);
    expect(await finalizeBatch(deps, ref)).toBe('finalized');
    return ref;
  }

  it('creates a batch of exactly the failed lines, bytes unchanged, naming its source', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const ref = await completed(deps);
    const retry = await retryBatch(deps, ref, {});
    expect(retry).toMatchObject({
      object: 'batch',
      status: 'validating',
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { team: 'search' },
      openbatch: { retry_of: ref.batchId, retries: [] },
    });
    const input = lines(deps, retry.input_file_id);
    const source = jsonlOf(9).split('\n');
    expect(input).toEqual([source[1], source[4]]);
    expect(await deps.files.get('acme', retry.input_file_id)).toMatchObject({
      purpose: 'batch',
      bytes: Buffer.byteLength(`${source[1]}\n${source[4]}\n`),
      filename: `${ref.batchId}_retry.jsonl`,
    });
    expect(deps.queue.take('scheduling')).toEqual([{ tenant: 'acme', batchId: retry.id }]);
    const again = await retryBatch(deps, ref, { custom_ids: ['req-0', 'req-8'] });
    expect(lines(deps, again.input_file_id)).toEqual([source[0], source[8]]);
    expect((await getBatchRecord(deps, ref)).retries).toEqual([retry.id, again.id]);
  });

  it('filters by error code and HTTP status; 400 when nothing matches, writing nothing', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const ref = await completed(deps);
    const byStatus = await retryBatch(deps, ref, { http_statuses: [500], error_codes: ['server_error'] });
    expect(lines(deps, byStatus.input_file_id)).toHaveLength(2);
    const objects = deps.blobs.objects.size;
    await expect(retryBatch(deps, ref, { http_statuses: [429] })).rejects.toMatchObject({
      status: 400,
      type: 'invalid_request_error',
    });
    await expect(retryBatch(deps, ref, { custom_ids: ['nope'] })).rejects.toBeInstanceOf(ApiError);
    expect(deps.blobs.objects.size).toBe(objects);
  });

  it('retries the expired and, when asked, the cancelled requests', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    await run(deps, msgs[0] as ChunkMessage, FAILING);
    await deps.batches.transition(
      ref,
      'finalizing',
      toUnixSeconds(deps.clock.now()),
      { end_reason: 'expired' },
      ['in_progress'],
    );
    await finalizeBatch(deps, ref);
    const retry = await retryBatch(deps, ref, {});
    expect(lines(deps, retry.input_file_id).map((l) => JSON.parse(l).custom_id)).toEqual([
      'req-1',
      'req-3',
      'req-4',
      'req-5',
      'req-6',
      'req-7',
      'req-8',
    ]);

    const other = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const c = await batchOf(other);
    await run(other, c.msgs[0] as ChunkMessage, FAILING);
    await cancelBatch(other, c.ref);
    await finalizeBatch(other, c.ref);
    expect(lines(other, (await retryBatch(other, c.ref, {})).input_file_id)).toHaveLength(1);
    const cancelled = await retryBatch(other, c.ref, { statuses: ['cancelled'] });
    expect(lines(other, cancelled.input_file_id)).toHaveLength(6);
  });

  it('names the file holding the selected requests when the retry batch cannot be created', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const ref = await completed(deps);
    // The new file cannot be taken as the batch's input (as if deleted at once).
    deps.files.reserve = async () => false;
    const err = await retryBatch(deps, ref, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, param: 'input_file_id' });
    const fileId = /in file (file-\d+)\.$/.exec((err as Error).message)?.[1] as string;
    expect(await deps.files.get('acme', fileId)).toMatchObject({ purpose: 'batch' });
    expect(lines(deps, fileId)).toHaveLength(2);
    expect((await getBatchRecord(deps, ref)).retries).toBeUndefined();
  });

  it('answers 409 for a batch still running, and 404 for a batch of another tenant', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3' });
    const { ref, msgs } = await batchOf(deps);
    await run(deps, msgs[0] as ChunkMessage, FAILING);
    await expect(retryBatch(deps, ref, {})).rejects.toMatchObject({ status: 409 });
    await expect(retryBatch(deps, { ...ref, tenant: 'other' }, {})).rejects.toMatchObject({ status: 404 });
  });
});

function lines(deps: FakeDeps, fileId: string): string[] {
  return deps.blobs.text(`acme/files/${fileId}.jsonl`).split('\n').filter(Boolean);
}
