import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatch } from '../../core/batches/batches-service.js';
import { finalizeBatch } from '../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../core/batches/schedule-batch.js';
import { parseChunkMessage } from '../../core/chunks/chunk-message.js';
import { createFile } from '../../core/files/files-service.js';
import {
  type Catalog,
  engineUrlOf,
  parseCatalog,
  poolGroupOf,
  poolQueueOf,
} from '../../core/models/catalog.js';
import type { ResultLine } from '../../core/openai/schemas.js';
import { HttpEngine } from '../../gpu-worker/src/engine/http-engine.js';
import { runChunk } from '../../gpu-worker/src/run-chunk.js';
import { type RealModelServer, startRealModelServer } from '../support/real-engine/real-model-server.js';
import { startTestAws, type TestAws } from '../support/test-aws.js';

/**
 * The real engine path: the worker's HTTP engine client against a real model server (llama.cpp
 * through node-llama-cpp, on the CPU, running a tiny model the fixture writes), end to end
 * through the emulator.
 */
let t: TestAws;
let model: RealModelServer;
let catalog: Catalog;
beforeAll(async () => {
  model = await startRealModelServer();
  // The catalog names the real model and its engine, as a deployment's would: validation accepts
  // the model through it, and the worker's engine URL comes from it.
  const MODEL_CATALOG = JSON.stringify({
    pools: { default: { engine_url: model.baseURL } },
    models: [{ id: model.modelId }],
  });
  catalog = parseCatalog(MODEL_CATALOG);
  t = await startTestAws({ MODEL_CATALOG });
});
afterAll(async () => {
  await model?.close();
  await t?.close();
});

const tenant = 'tenant-real';

async function runBatch(endpoint: '/v1/chat/completions' | '/v1/completions', lines: object[]) {
  const content = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n'));
  const file = await createFile(t.depsOf('filesApi'), tenant, {
    filename: 'real.jsonl',
    purpose: 'batch',
    content,
  });
  const batch = await createBatch(t.depsOf('batchesApi'), tenant, {
    input_file_id: file.id,
    endpoint,
    completion_window: '24h',
  });
  const ref = { tenant, batchId: batch.id };
  expect(await scheduleBatch(t.depsOf('scheduler'), ref)).toBe('scheduled');
  const group = poolGroupOf(catalog, model.modelId);
  const engine = new HttpEngine(engineUrlOf(catalog, group) ?? '', { timeoutMs: 30_000 });
  expect(poolQueueOf(catalog, model.modelId, 'spot')).toBe('spot');
  const queueUrl = t.env.SPOT_QUEUE_URL as string;
  const received = await t.aws.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }),
  );
  for (const m of received.Messages ?? []) {
    const result = await runChunk(t.depsOf('worker'), parseChunkMessage(m.Body ?? ''), {
      pool: 'spot',
      engine,
      concurrency: 2,
      maxRetries: 1,
      stop: new AbortController().signal,
    });
    expect(result.outcome).toBe('completed');
    await t.aws.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
  expect(await finalizeBatch(t.depsOf('finalizer'), ref)).toBe('finalized');
  const record = await t.deps.batches.get(ref);
  const read = async (id: string | undefined) =>
    id
      ? (await t.deps.blobs.read((await t.deps.files.get(tenant, id))?.s3_key ?? ''))
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as ResultLine)
      : [];
  return { record, output: await read(record?.output_file_id), errors: await read(record?.error_file_id) };
}

describe('gpu-worker against a real OpenAI-compatible model server', () => {
  it('runs chat completions through the model and writes OpenAI output lines', async () => {
    const lines = Array.from({ length: 4 }, (_, i) => ({
      custom_id: `chat-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: model.modelId,
        max_tokens: 5,
        messages: [{ role: 'user', content: `Say something about ${i}` }],
      },
    }));
    const { record, output, errors } = await runBatch('/v1/chat/completions', lines);
    expect(record?.status).toBe('completed');
    expect(errors).toEqual([]);
    expect(output.map((l) => l.custom_id)).toEqual(['chat-0', 'chat-1', 'chat-2', 'chat-3']);
    for (const line of output) {
      const body = line.response?.body as {
        object: string;
        choices: { message: { content: string } }[];
        usage: { completion_tokens: number };
      };
      expect(line.response?.status_code).toBe(200);
      expect(body.object).toBe('chat.completion');
      expect(typeof body.choices[0]?.message.content).toBe('string');
      expect(body.usage.completion_tokens).toBeGreaterThan(0);
      expect(body.usage.completion_tokens).toBeLessThanOrEqual(5);
    }
  });

  it('keeps the engine’s own status and error body for a request it rejects', async () => {
    const lines = [
      {
        custom_id: 'ok',
        method: 'POST',
        url: '/v1/completions',
        body: { model: model.modelId, prompt: 'Hello', max_tokens: 3 },
      },
      // Longer than the model's context: the server answers 400, which is final (not retried).
      {
        custom_id: 'too-long',
        method: 'POST',
        url: '/v1/completions',
        body: { model: model.modelId, prompt: 'Hello', max_tokens: 100_000 },
      },
    ];
    const { record, output, errors } = await runBatch('/v1/completions', lines);
    expect([record?.completed, record?.failed]).toEqual([1, 1]);
    expect(output[0]?.response?.body).toMatchObject({ object: 'text_completion' });
    expect(errors[0]?.custom_id).toBe('too-long');
    expect(errors[0]?.response?.status_code).toBe(400);
    expect(errors[0]?.response?.body).toMatchObject({
      error: { message: expect.stringMatching(/context/i) },
    });
  });
});
