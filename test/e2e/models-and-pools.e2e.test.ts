import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { type FakeEngine, startFakeEngine } from '../support/fake-engine-server.js';
import { sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * A two-group catalog on the local runtime, through the official SDK: `alpha` runs on the default
 * pool group, `beta` on group `second`, each group with its own queues, workers and engine (a
 * fake engine server each, which counts the requests it answers: the observable of which group
 * ran a batch). The Models API lists the catalog.
 */
let rt: LocalRuntime;
let client: OpenAI;
let engines: { alpha: FakeEngine; beta: FakeEngine };

beforeAll(async () => {
  const [alpha, beta] = await Promise.all([
    startFakeEngine({ latencyMs: 1, capacity: 64 }),
    startFakeEngine({ latencyMs: 1, capacity: 64 }),
  ]);
  engines = { alpha, beta };
  rt = await startLocalRuntime({
    port: 0,
    env: {
      CHUNK_MAX_LINES: '50',
      MODEL_CATALOG: JSON.stringify({
        pools: { default: { engine_url: alpha.url }, second: { engine_url: beta.url } },
        models: [
          { id: 'alpha', owned_by: 'team-a', created: 1_700_000_000 },
          { id: 'beta', pool: 'second' },
        ],
      }),
    },
  });
  client = sdk(rt.url, rt.apiKey);
});
afterAll(async () => {
  await rt?.close();
  await Promise.all([engines?.alpha.close(), engines?.beta.close()]);
});

async function run(content: string) {
  const file = await upload(client, content);
  const created = await client.batches.create({
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  return waitUntilEnded(client, created.id, 90_000);
}

describe('models and pool groups', () => {
  it("lists and retrieves the catalog's models in OpenAI's shape", async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).toEqual([
      { id: 'alpha', object: 'model', created: 1_700_000_000, owned_by: 'team-a' },
      { id: 'beta', object: 'model', created: 0, owned_by: 'openbatch' },
    ]);
    expect(await client.models.retrieve('beta')).toMatchObject({ id: 'beta', object: 'model' });
    const err = await client.models.retrieve('gpt-9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({
      code: 'model_not_found',
      param: 'model',
      type: 'invalid_request_error',
    });
  });

  it("runs each batch on its model's pool group: its workers, its engine", async () => {
    engines.alpha.reset();
    engines.beta.reset();
    const a = await run(chatLines(120, { model: 'alpha' }));
    expect(a.status).toBe('completed');
    expect(a.request_counts).toEqual({ total: 120, completed: 120, failed: 0 });
    expect(engines.alpha.stats().answered).toBe(120);
    expect(engines.beta.stats().received).toBe(0);

    const b = await run(chatLines(80, { model: 'beta' }));
    expect(b.status).toBe('completed');
    expect(b.request_counts).toEqual({ total: 80, completed: 80, failed: 0 });
    expect(engines.beta.stats().answered).toBe(80);
    expect(engines.alpha.stats().received).toBe(120);
    // The batch object names the pool group and the pool its chunks went to.
    const ext = (x: unknown) =>
      (x as { openbatch: { pool_group: string | null; route: string | null } }).openbatch;
    expect([ext(a).pool_group, ext(a).route]).toEqual(['default', 'spot']);
    expect([ext(b).pool_group, ext(b).route]).toEqual(['second', 'spot']);
  });

  it('fails a model outside the catalog with model_not_found naming the line', async () => {
    const lines = chatLines(3, { model: 'alpha' }).split('\n');
    lines[2] = (lines[2] as string).replace('"model":"alpha"', '"model":"gpt-9"');
    const batch = await run(lines.join('\n'));
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data).toEqual([
      expect.objectContaining({ code: 'model_not_found', line: 3, param: 'body.model' }),
    ]);
  });

  it('refuses a file that mixes models, as OpenAI does (one model per batch)', async () => {
    const batch = await run(
      `${chatLines(2, { model: 'alpha' })}\n${chatLines(2, { model: 'beta', prefix: 'b' })}`,
    );
    expect(batch.status).toBe('failed');
    expect(batch.errors?.data?.[0]).toMatchObject({ code: 'mismatched_model', line: 3 });
  });
});
