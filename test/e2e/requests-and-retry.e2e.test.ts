import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { countIds, resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * The per-request view and retry, end to end: the official SDK for the OpenAI contract, plain
 * HTTP for the extensions, against the local runtime (each function in its own process, every
 * AWS call checked against its declared access). The SIMULATED engine fails about 30 % of
 * requests with HTTP 500, and the workers do not retry them, so a batch ends with failures.
 */
const KEY = 'sk-requests';
let rt: LocalRuntime;
let client: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { [KEY]: 'tenant-requests' },
    // 100 ms a request, 4 at a time in each of the two workers: a 2,000-line batch needs about 25 s,
    // so it outlives a 3 s completion window however slow the machine's HTTP calls around it are.
    env: {
      CHUNK_MAX_LINES: '25',
      SIM_ENGINE_FAILURE_RATE: '0.3',
      ENGINE_MAX_RETRIES: '0',
      SIM_ENGINE_LATENCY_MS: '100',
      ENGINE_CONCURRENCY: '4',
      COMPLETION_WINDOWS: '24h,3s',
      // The 3 s window is meant to run out: admitted with a warning, not refused at create.
      SLA_ADMISSION: 'warn',
    },
    slaEverySeconds: 3600,
  });
  client = sdk(rt.url, KEY);
});
afterAll(() => rt?.close());

interface RequestRow {
  object: string;
  id: string;
  custom_id: string;
  line: number;
  status: string;
  pool: string | null;
  attempts: number;
  http_status: number | null;
  error_code: string | null;
}
interface Page {
  object: string;
  data: RequestRow[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

async function http<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${rt.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function allRequests(batchId: string, query: Record<string, string> = {}): Promise<RequestRow[]> {
  const rows: RequestRow[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const qs = new URLSearchParams({ limit: '40', ...query, ...(after ? { after } : {}) });
    const { status, body } = await http<Page>('GET', `/v1/openbatch/batches/${batchId}/requests?${qs}`);
    expect(status).toBe(200);
    expect(body.object).toBe('list');
    rows.push(...body.data);
    if (!body.has_more) return rows;
    expect(body.last_id).toBe(body.data.at(-1)?.id);
    after = body.last_id ?? undefined;
  }
  throw new Error('too many pages');
}

describe('per-request view and retry of a batch with failures', () => {
  const N = 120;
  const input = chatLines(N, { prefix: 'r' });
  const inputLines = input.split('\n');
  let batchId: string;
  let failedIds: string[];

  it('runs a batch in which some requests fail', async () => {
    const file = await upload(client, input);
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { suite: 'requests' },
    });
    batchId = created.id;
    const batch = await waitUntilEnded(client, batchId, 90_000);
    expect(batch.status).toBe('completed');
    const errors = await resultLines(client, batch.error_file_id);
    failedIds = errors.map((l) => l.custom_id);
    expect(failedIds.length).toBeGreaterThan(0);
    expect(batch.request_counts).toEqual({
      total: N,
      completed: N - failedIds.length,
      failed: failedIds.length,
    });
  });

  it('lists every request in input-line order, page by page, with its status, HTTP status and error code', async () => {
    const rows = await allRequests(batchId);
    expect(rows.map((r) => r.line)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(rows.map((r) => r.custom_id)).toEqual(Array.from({ length: N }, (_, i) => `r-${i}`));
    const failed = new Set(failedIds);
    for (const r of rows) {
      expect(r.object).toBe('batch.request');
      expect(r.id).toBe(`line_${r.line}`);
      expect(['spot', 'dedicated']).toContain(r.pool);
      expect(r.attempts).toBeGreaterThanOrEqual(1);
      if (failed.has(r.custom_id))
        expect(r).toMatchObject({ status: 'failed', http_status: 500, error_code: 'server_error' });
      else expect(r).toMatchObject({ status: 'succeeded', http_status: 200, error_code: null });
    }
  });

  it('filters by status and by custom_id', async () => {
    const failed = await allRequests(batchId, { status: 'failed' });
    expect(failed.map((r) => r.custom_id)).toEqual(failedIds);
    const succeeded = await allRequests(batchId, { status: 'succeeded' });
    expect(succeeded).toHaveLength(N - failedIds.length);
    expect(await allRequests(batchId, { status: 'pending' })).toEqual([]);
    const one = await allRequests(batchId, { custom_id: failedIds[0] as string });
    expect(one.map((r) => r.custom_id)).toEqual([failedIds[0]]);
  });

  it('returns one request with its input body and its output or error line', async () => {
    const batch = await client.batches.retrieve(batchId);
    const outputs = await resultLines(client, batch.output_file_id);
    const errors = await resultLines(client, batch.error_file_id);
    const failedId = failedIds[0] as string;
    const okId = outputs[0]?.custom_id as string;
    for (const [id, lines] of [
      [failedId, errors],
      [okId, outputs],
    ] as const) {
      const { status, body } = await http<RequestRow & { body: unknown; result: unknown; url: string }>(
        'GET',
        `/v1/openbatch/batches/${batchId}/requests/${encodeURIComponent(id)}`,
      );
      expect(status).toBe(200);
      const line = Number(id.slice(2)) + 1;
      expect(body).toMatchObject({ custom_id: id, line, url: '/v1/chat/completions' });
      expect(body.body).toEqual(JSON.parse(inputLines[line - 1] as string).body);
      expect(body.result).toEqual(lines.find((l) => l.custom_id === id));
    }
    const missing = await http<{ error: { type: string } }>(
      'GET',
      `/v1/openbatch/batches/${batchId}/requests/no-such-id`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.type).toBe('invalid_request_error');
  });

  it("answers bad input with OpenAI's error shape and a 4xx", async () => {
    const bad = await http<{ error: { param: string } }>(
      'GET',
      `/v1/openbatch/batches/${batchId}/requests?after=r-1`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'invalid_request_error', param: 'after' });
    const noMatch = await http<{ error: { message: string } }>(
      'POST',
      `/v1/openbatch/batches/${batchId}/retry`,
      {
        http_statuses: [429],
      },
    );
    expect(noMatch.status).toBe(400);
    expect(noMatch.body.error.message).toMatch(/No request/);
  });

  it('retries exactly the failed requests as a new batch that names its source', async () => {
    const { status, body: retry } = await http<{
      id: string;
      input_file_id: string;
      openbatch: { retry_of: string };
    }>('POST', `/v1/openbatch/batches/${batchId}/retry`);
    expect(status).toBe(200);
    expect(retry.openbatch.retry_of).toBe(batchId);

    // The SDK parses the extended batch objects, and the source names its retry.
    const fetched = await client.batches.retrieve(retry.id);
    expect(fetched).toMatchObject({
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { suite: 'requests' },
    });
    const source = (await client.batches.retrieve(batchId)) as unknown as {
      openbatch: { retries: string[] };
    };
    expect(source.openbatch.retries).toEqual([retry.id]);

    // Its input is the failed lines, bytes unchanged, in input order.
    const retryInput = await (await client.files.content(retry.input_file_id)).text();
    const failed = new Set(failedIds);
    expect(retryInput).toBe(`${inputLines.filter((l) => failed.has(JSON.parse(l).custom_id)).join('\n')}\n`);

    // Run again (the engine still fails some): its output and error files hold exactly the failed ids.
    const ended = await waitUntilEnded(client, retry.id, 90_000);
    expect(ended.status).toBe('completed');
    expect(ended.request_counts?.total).toBe(failedIds.length);
    const lines = [
      ...(await resultLines(client, ended.output_file_id)),
      ...(await resultLines(client, ended.error_file_id)),
    ];
    const counts = countIds(lines);
    expect([...counts.keys()].sort()).toEqual([...failedIds].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // The retry's own view lists the same ids.
    expect((await allRequests(retry.id)).map((r) => r.custom_id)).toEqual(failedIds);
  });

  it('answers 409 for a retry of a batch that has not ended', async () => {
    const file = await upload(client, chatLines(3, { prefix: 'busy' }));
    const busy = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const res = await http<{ error: { type: string; message: string } }>(
      'POST',
      `/v1/openbatch/batches/${busy.id}/retry`,
      { error_codes: ['server_error'] },
    );
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(
      /Cannot retry a batch with status '(validating|in_progress|finalizing)'/,
    );
    await waitUntilEnded(client, busy.id, 60_000);
  });
});

describe('per-request view of a running batch, then of the same batch expired', () => {
  const N = 2000;
  const input = chatLines(N, { prefix: 'late' });
  const inputLines = input.split('\n');

  it('shows what ran while it runs, then expired requests with their batch_expired line, and retries them', async () => {
    const file = await upload(client, input);
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '3s' as '24h',
    });
    const id = created.id;
    for (;;) {
      const b = await client.batches.retrieve(id);
      if (
        b.status === 'in_progress' &&
        (b.request_counts?.completed ?? 0) + (b.request_counts?.failed ?? 0) > 0
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }

    // While it runs: done lines are at least what the batch counts, nothing expired or cancelled yet.
    const counted = (await client.batches.retrieve(id)).request_counts;
    const running = await allRequests(id);
    expect(running.map((r) => r.line)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    for (const r of running) expect(['pending', 'running', 'succeeded', 'failed']).toContain(r.status);
    const finished = running.filter((r) => r.status === 'succeeded' || r.status === 'failed').length;
    expect(finished).toBeGreaterThanOrEqual((counted?.completed ?? 0) + (counted?.failed ?? 0));
    expect(running.some((r) => r.status === 'pending' || r.status === 'running')).toBe(true);
    const pendingOnly = await allRequests(id, { status: 'pending' });
    expect(pendingOnly.every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);

    await new Promise((r) => setTimeout(r, 3200));
    await rt.runSlaMonitor();
    const batch = await waitUntilEnded(client, id, 30_000);
    expect(batch.status).toBe('expired');
    const errors = await resultLines(client, batch.error_file_id);
    const expiredIds = errors.filter((l) => l.error?.code === 'batch_expired').map((l) => l.custom_id);
    expect(expiredIds.length).toBeGreaterThan(0);

    const rows = await allRequests(id, { status: 'expired' });
    expect(rows.map((r) => r.custom_id)).toEqual(expiredIds);
    expect(rows.every((r) => r.error_code === 'batch_expired' && r.http_status === null)).toBe(true);
    // The expired line of the error file, found by its offset after the done chunks' error lines.
    const lastExpired = expiredIds.at(-1) as string;
    const one = await http<{ status: string; result: unknown }>(
      'GET',
      `/v1/openbatch/batches/${id}/requests/${lastExpired}`,
    );
    expect(one.status).toBe(200);
    expect(one.body.status).toBe('expired');
    expect(one.body.result).toEqual(errors.find((l) => l.custom_id === lastExpired));

    // The default retry: every failed and expired request, which is every error line.
    const retry = await http<{ id: string; input_file_id: string }>(
      'POST',
      `/v1/openbatch/batches/${id}/retry`,
    );
    expect(retry.status).toBe(200);
    const retried = new Set(errors.map((l) => l.custom_id));
    const retryInput = await (await client.files.content(retry.body.input_file_id)).text();
    expect(retryInput).toBe(`${inputLines.filter((l) => retried.has(JSON.parse(l).custom_id)).join('\n')}\n`);
    await client.batches.cancel(retry.body.id);
  });
});
