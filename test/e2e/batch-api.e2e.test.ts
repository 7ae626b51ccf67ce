import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { countIds, resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/** The official `openai` SDK, unmodified, against `npm start`'s runtime. */
let rt: LocalRuntime;
let a: OpenAI;
let b: OpenAI;
beforeAll(async () => {
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { 'sk-tenant-a': 'tenant-a', 'sk-tenant-b': 'tenant-b' },
    env: { CHUNK_MAX_LINES: '500', MAX_API_UPLOAD_BYTES: String(3 * 1024 * 1024) },
  });
  a = sdk(rt.url, 'sk-tenant-a');
  b = sdk(rt.url, 'sk-tenant-b');
});
afterAll(() => rt?.close());

describe('OpenAI Batch API through the official SDK', () => {
  it('runs a batch of thousands of lines, every custom_id exactly once', async () => {
    const file = await upload(a, chatLines(3000));
    expect(file).toMatchObject({
      object: 'file',
      purpose: 'batch',
      filename: 'input.jsonl',
      status: 'processed',
    });
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { team: 'search', run: '42' },
    });
    expect(created).toMatchObject({
      object: 'batch',
      status: 'validating',
      metadata: { team: 'search', run: '42' },
    });
    expect((created.expires_at ?? 0) - created.created_at).toBe(86_400);

    const batch = await waitUntilEnded(a, created.id);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 3000, completed: 3000, failed: 0 });
    for (const field of ['in_progress_at', 'finalizing_at', 'completed_at'] as const)
      expect(batch[field]).toBeGreaterThan(0);
    expect(batch.error_file_id).toBeNull();

    const output = await resultLines(a, batch.output_file_id);
    const counts = countIds(output);
    expect(counts.size).toBe(3000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(output.map((l) => l.custom_id)).toEqual(Array.from({ length: 3000 }, (_, i) => `req-${i}`));
    expect(output[0]).toMatchObject({
      error: null,
      response: { status_code: 200, body: { object: 'chat.completion' } },
    });

    // OpenAI's usage on the batch: the sum of the output lines' usage, each line once.
    const usageOf = (l: (typeof output)[number]) =>
      (l.response?.body as { usage?: Record<string, number> } | undefined)?.usage ?? {};
    const sum = (f: (u: Record<string, number>) => number) => output.reduce((n, l) => n + f(usageOf(l)), 0);
    const input = sum((u) => u.prompt_tokens ?? 0);
    const generated = sum((u) => u.completion_tokens ?? 0);
    expect(input).toBeGreaterThan(0);
    expect(batch.usage).toMatchObject({
      input_tokens: input,
      output_tokens: generated,
      total_tokens: input + generated,
    });

    // The estimate beside the contract: spot work priced as spot, against all on-demand.
    const { cost } = (batch as unknown as { openbatch: { cost: Record<string, unknown> } }).openbatch;
    expect(cost).toMatchObject({ estimate: true, currency: 'usd' });
    expect(cost.total as number).toBeGreaterThan(0);
    expect(cost.all_dedicated as number).toBeGreaterThan(cost.total as number);

    const outFile = await a.files.retrieve(batch.output_file_id as string);
    expect(outFile).toMatchObject({ purpose: 'batch_output', object: 'file' });
    const listed = await a.batches.list({ limit: 10 });
    expect(listed.data.map((x) => x.id)).toContain(batch.id);
  });

  it('lists batches newest first and pages with after/limit', async () => {
    const file = await upload(a, chatLines(2, { prefix: 'page' }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (
          await a.batches.create({
            input_file_id: file.id,
            endpoint: '/v1/chat/completions',
            completion_window: '24h',
          })
        ).id,
      );
    }
    const first = await a.batches.list({ limit: 2 });
    expect(first.data.map((x) => x.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const second = await a.batches.list({ limit: 2, after: ids[1] });
    expect(second.data[0]?.id).toBe(ids[0]);
    // The SDK's auto-pagination walks every page.
    const all: string[] = [];
    for await (const x of a.batches.list({ limit: 2 })) all.push(x.id);
    expect(all.slice(0, 3)).toEqual([ids[2], ids[1], ids[0]]);
  });

  it('fails a malformed file with line-numbered errors, running nothing', async () => {
    const lines = [
      chatLines(1, { prefix: 'good' }),
      '{"custom_id": "broken", ',
      JSON.stringify({
        custom_id: 'good-0',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm' },
      }),
      JSON.stringify({ custom_id: 'get', method: 'GET', url: '/v1/chat/completions', body: { model: 'm' } }),
      JSON.stringify({
        custom_id: 'stream',
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm', stream: true },
      }),
      JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: { model: 'm' } }),
    ];
    const file = await upload(a, lines.join('\n'));
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = await waitUntilEnded(a, created.id);
    expect(batch.status).toBe('failed');
    expect(batch.failed_at).toBeGreaterThan(0);
    expect(batch.errors?.data?.map((e) => [e.code, e.line])).toEqual([
      ['invalid_json_line', 2],
      ['invalid_request', 3],
      ['invalid_request', 4],
      ['streaming_unsupported', 5],
      ['missing_required_parameter', 6],
    ]);
    expect(batch.output_file_id).toBeNull();
  });

  it('fails an empty file', async () => {
    const file = await upload(a, '\n\n');
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = await waitUntilEnded(a, created.id);
    expect(batch.errors?.data?.[0]?.code).toBe('empty_file');
  });

  it('cancels a running batch and ends it cancelled with partial counts', async () => {
    const file = await upload(a, chatLines(12_000, { prefix: 'cancel' }));
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const cancelling = await a.batches.cancel(created.id);
    expect(cancelling.status).toBe('cancelling');
    expect(cancelling.cancelling_at).toBeGreaterThan(0);
    const batch = await waitUntilEnded(a, created.id);
    expect(batch.status).toBe('cancelled');
    expect(batch.cancelled_at).toBeGreaterThan(0);
    expect(batch.request_counts?.completed ?? 0).toBeLessThan(12_000);
    const output = await resultLines(a, batch.output_file_id);
    expect(output.length).toBe(batch.request_counts?.completed ?? 0);
    // A cancelled batch's usage is that of the requests it did run, in its output.
    expect(batch.usage?.input_tokens).toBe(
      output.reduce(
        (n, l) =>
          n +
          ((l.response?.body as { usage?: { prompt_tokens?: number } } | undefined)?.usage?.prompt_tokens ??
            0),
        0,
      ),
    );
    await expect(a.batches.cancel(created.id)).resolves.toMatchObject({ status: 'cancelled' });
  });

  it('answers a cancel of a completed batch with 409', async () => {
    const file = await upload(a, chatLines(3, { prefix: 'done' }));
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await waitUntilEnded(a, created.id);
    const err = await a.batches.cancel(created.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.ConflictError);
    expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'invalid_request_error',
    });
  });

  it('rejects an unsupported endpoint or completion window with 400 naming the parameter', async () => {
    const file = await upload(a, chatLines(1, { prefix: 'bad' }));
    const badEndpoint = await a.batches
      .create({
        input_file_id: file.id,
        endpoint: '/v1/images/generations' as '/v1/chat/completions',
        completion_window: '24h',
      })
      .catch((e: unknown) => e);
    expect(badEndpoint).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badEndpoint as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('endpoint');
    const badWindow = await a.batches
      .create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '2d' as '24h' })
      .catch((e: unknown) => e);
    expect((badWindow as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('completion_window');
    const missing = await a.batches
      .create({ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('answers an unknown id with 404 in OpenAI’s error shape', async () => {
    const err = await a.batches.retrieve('batch_doesnotexist').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
      message: expect.stringContaining('batch_doesnotexist'),
      type: 'invalid_request_error',
    });
  });

  it('refuses a wrong API key with 401', async () => {
    const err = await sdk(rt.url, 'sk-wrong')
      .batches.list()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });

  it('never shows one tenant’s files or batches to another', async () => {
    const file = await upload(a, chatLines(2, { prefix: 'private' }));
    const batch = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    await expect(b.batches.retrieve(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(b.batches.cancel(batch.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(b.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(b.files.content(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(b.files.delete(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // Tenant b cannot run a batch over tenant a's file either.
    await expect(
      b.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await b.batches.list()).data.map((x) => x.id)).not.toContain(batch.id);
    expect((await b.files.list()).data.map((f) => f.id)).not.toContain(file.id);
  });

  it('manages files: list, retrieve, content, delete', async () => {
    const content = chatLines(5, { prefix: 'files' });
    const file = await upload(a, content, 'mine.jsonl');
    expect(file.bytes).toBe(Buffer.byteLength(content));
    expect((await a.files.retrieve(file.id)).filename).toBe('mine.jsonl');
    expect(await (await a.files.content(file.id)).text()).toBe(content);
    const listed = [];
    for await (const f of a.files.list({ purpose: 'batch' })) listed.push(f.id);
    expect(listed).toContain(file.id);
    expect(await a.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(a.files.retrieve(file.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('refuses a direct upload beyond the limit, pointing to the Uploads API', async () => {
    const err = await upload(a, 'x'.repeat(3 * 1024 * 1024 + 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('/v1/uploads');
  });

  it('shows per-chunk progress and pools beside the contract', async () => {
    const file = await upload(a, chatLines(1200, { prefix: 'chunks' }));
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = (await waitUntilEnded(a, created.id)) as unknown as { openbatch: Record<string, unknown> };
    expect(batch.openbatch).toMatchObject({
      priority: 'normal',
      sla: { state: 'met' },
      pools: { spot: 1200, dedicated: 0 },
      chunks: { total: 3, done: 3 },
    });
    const res = await fetch(`${rt.url}/v1/openbatch/batches/${created.id}/chunks`, {
      headers: { authorization: 'Bearer sk-tenant-a' },
    });
    const chunks = (await res.json()) as {
      data: { chunk: number; status: string; requests: number; pool: string }[];
    };
    expect(chunks.data.map((c) => [c.chunk, c.status, c.requests, c.pool])).toEqual([
      [0, 'done', 500, 'spot'],
      [1, 'done', 500, 'spot'],
      [2, 'done', 200, 'spot'],
    ]);
  });

  // High priority weighs 4 in a pool's fair shares and escalates at a deadline pressure of 0.5
  // (docs/policy.md); with a day to spare it runs on Spot like any other batch.
  it('carries a high priority and runs it on Spot while its window is far', async () => {
    const file = await upload(a, chatLines(50, { prefix: 'vip' }));
    const created = await a.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      // Extension beside the contract: the SDK passes unknown body fields through.
      priority: 'high',
    } as Parameters<typeof a.batches.create>[0]);
    const batch = (await waitUntilEnded(a, created.id)) as unknown as {
      openbatch: { pools: object; priority: string };
    };
    expect(batch.openbatch).toMatchObject({ priority: 'high', pools: { spot: 50, dedicated: 0 } });
  });
});
