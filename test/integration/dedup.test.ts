import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../core/app/deps.js';
import { finalizeBatch } from '../../core/batches/finalize-batch.js';
import type { ChunkMessage } from '../../core/chunks/chunk-message.js';
import { type PackRecord, packIdAt } from '../../core/dedup/answer-index.js';
import { encodePack } from '../../core/dedup/answer-pack.js';
import { requestHash } from '../../core/dedup/normalise.js';
import type { ResultLine } from '../../core/openai/schemas.js';
import { listRequests } from '../../core/requests/requests-service.js';
import type { Engine } from '../../gpu-worker/src/engine/engine.js';
import { SimulatedEngine } from '../../gpu-worker/src/engine/simulated-engine.js';
import { runChunk } from '../../gpu-worker/src/run-chunk.js';
import { createAndSchedule, drainQueue, startTestAws, type TestAws } from '../support/test-aws.js';

/**
 * Deduplication against the emulator (DynamoDB Local for the dedup table's binary entries and
 * the completion transaction): the table's adapter, and batches run by flows holding exactly
 * their declared access, so a worker touching the dedup table or the pack objects without a
 * declaration fails here.
 */
let t: TestAws;
beforeAll(async () => {
  t = await startTestAws({ CHUNK_MAX_LINES: '20', CHUNK_TAIL_MIN_LINES: '0' }, { dynamoDbLocal: true });
});
afterAll(() => t?.close());

const as = (principal: Principal) => t.depsOf(principal);
const stop = new AbortController().signal;

function pack(tenant: string, ms: number, n: number): PackRecord {
  const p = encodePack(
    Array.from({ length: n }, (_, i) => ({
      hash: requestHash(tenant, '/v1/chat/completions', { i, ms }),
      response: { status_code: 200, request_id: `r${i}`, body: {} },
    })),
  );
  const id = packIdAt(ms, `batch_x-${ms}`);
  return {
    tenant,
    pack: id,
    key: `${tenant}/dedup/packs/${id}.jsonl`,
    entries: p.entries,
    count: p.count,
    ttl: 2e9,
  };
}

describe('DedupStore against the emulator', () => {
  it('keeps binary entries, lists a tenant’s packs newest first after a given id, and pages', async () => {
    const store = as('worker').dedup;
    const T0 = Date.UTC(2026, 0, 1);
    const written = [];
    // 40 packs of 2,000 entries (32 KB each): more than one 1 MB query page.
    for (let i = 0; i < 40; i++) {
      const p = pack('tenant-d', T0 + i * 1000, 2000);
      written.push(p);
      await store.putPack(p);
    }
    await store.putPack(pack('tenant-e', T0, 3));
    const all = await store.listPacks('tenant-d', { maxEntries: 1e9 });
    expect(all.map((p) => p.pack)).toEqual(written.map((p) => p.pack).reverse());
    expect(Buffer.from(all[0]?.entries ?? []).equals(Buffer.from(written[39]?.entries ?? []))).toBe(true);
    const recent = await store.listPacks('tenant-d', { after: written[36]?.pack, maxEntries: 1e9 });
    expect(recent.map((p) => p.pack)).toEqual([written[39], written[38], written[37]].map((p) => p?.pack));
    // Stops after the page that reaches the cap: newest first, at least the cap's worth.
    const capped = await store.listPacks('tenant-d', { maxEntries: 4000 });
    expect(capped.length).toBeGreaterThanOrEqual(2);
    expect(capped.length).toBeLessThan(40);
    expect(capped[0]?.pack).toBe(written[39]?.pack);
    expect((await store.listPacks('tenant-e', { maxEntries: 10 })).map((p) => p.tenant)).toEqual([
      'tenant-e',
    ]);
  });
});

/** Takes every message off a queue; chunk messages parsed (`chunks`), others dropped. */
const drain = async (url: string, chunks = false): Promise<ChunkMessage[]> =>
  (await drainQueue(t, url, chunks)).messages;

class CountingEngine implements Engine {
  readonly name = 'counting';
  calls = 0;
  readonly inner = new SimulatedEngine({ latencyMs: 0, failureRate: 0 });
  send(path: string, body: Record<string, unknown>, signal?: AbortSignal) {
    this.calls += 1;
    return this.inner.send(path, body, signal);
  }
}

const lines = (ids: string, contents: string[]) =>
  contents
    .map((c, i) =>
      JSON.stringify({
        custom_id: `${ids}-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'm', temperature: 0, messages: [{ role: 'user', content: c }] },
      }),
    )
    .join('\n');

async function runBatch(tenant: string, content: string, engine: Engine, dedup?: boolean) {
  const { ref } = await createAndSchedule(
    t,
    tenant,
    content,
    dedup === undefined ? {} : { openbatch: { dedup } },
  );
  for (const msg of await drain(t.env.SPOT_QUEUE_URL as string, true))
    expect(
      (await runChunk(as('worker'), msg, { pool: 'spot', engine, maxRetries: 0, stop, concurrency: 8 }))
        .outcome,
    ).toBe('completed');
  await drain(t.env.FINALIZING_QUEUE_URL as string);
  expect(await finalizeBatch(as('finalizer'), ref)).toBe('finalized');
  const record = await t.deps.batches.get(ref);
  const out = record?.output_file_id ? await t.deps.files.get(tenant, record.output_file_id) : undefined;
  const results = (await t.deps.blobs.read(out?.s3_key ?? ''))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ResultLine);
  return { ref, record, results };
}

describe('a batch reusing an earlier batch’s answers, each flow with its declared access', () => {
  it('answers the repeated half from the first batch, counted once, listed as reused; packs outlive finalization', async () => {
    const engine = new CountingEngine();
    const questions = Array.from({ length: 30 }, (_, i) => `question ${i}`);
    const first = await runBatch('tenant-r', lines('a', questions), engine);
    expect(engine.calls).toBe(30);
    const packs = await t.deps.dedup.listPacks('tenant-r', { maxEntries: 1e9 });
    expect(packs.map((p) => p.count)).toEqual([10, 20]); // chunks of 20 and 10 lines, newest first
    // Finalization removed the batch's work, not the answer packs.
    for (const p of packs) expect((await t.deps.blobs.read(p.key)).length).toBeGreaterThan(0);

    engine.calls = 0;
    const mixed = questions.map((q, i) => (i % 2 === 0 ? q : `new ${i}`));
    const second = await runBatch('tenant-r', lines('b', mixed), engine);
    expect(engine.calls).toBe(15);
    expect(second.record).toMatchObject({ status: 'completed', completed: 30, reused: 15 });
    for (let i = 0; i < 30; i += 2) expect(second.results[i]?.response).toEqual(first.results[i]?.response);
    const page = await listRequests(as('batchesApi'), second.ref, { limit: 30 });
    expect(page.data.filter((r) => r.reused).map((r) => r.line)).toEqual(
      Array.from({ length: 15 }, (_, i) => 2 * i + 1),
    );

    engine.calls = 0;
    const off = await runBatch('tenant-r', lines('c', questions), engine, false);
    expect(engine.calls).toBe(30);
    expect(off.record?.reused ?? 0).toBe(0);
    engine.calls = 0;
    const elsewhere = await runBatch('tenant-s', lines('d', questions), engine);
    expect(engine.calls).toBe(30);
    expect(elsewhere.record?.reused ?? 0).toBe(0);
  });
});
