import { describe, expect, it } from 'vitest';
import { toBatchObject } from '../../../../core/batches/batch-record.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import type { ChunkMessage } from '../../../../core/chunks/chunk-message.js';
import type { CreateBatchBody, ResultLine } from '../../../../core/openai/schemas.js';
import { listRequests } from '../../../../core/requests/requests-service.js';
import type { Engine } from '../../../../gpu-worker/src/engine/engine.js';
import { runChunk } from '../../../../gpu-worker/src/run-chunk.js';
import { createdBatch, type FakeDeps, fakeDeps } from '../../../support/fakes.js';

/**
 * Deduplication through the worker's chunk run, on the in-memory ports: which requests are
 * answered from earlier batches, what their lines hold, and how they are counted.
 */
const stop = new AbortController().signal;
const opts = { pool: 'spot' as const, concurrency: 4, maxRetries: 0, stop, retryMinTimeoutMs: 1 };

/** An engine that numbers its answers, so a reused body is told apart from a fresh one. */
function countingEngine(failOn: (content: string) => boolean = () => false) {
  const seen: string[] = [];
  const engine: Engine = {
    name: 'fake',
    send: async (_url, body) => {
      const content = String((body.messages as { content: string }[])[0]?.content);
      seen.push(content);
      if (failOn(content))
        return { status: 400, body: { error: { message: 'bad', type: 'invalid_request_error' } } };
      return {
        status: 200,
        body: {
          id: `chatcmpl-${seen.length}`,
          object: 'chat.completion',
          answer: `${content}#${seen.length}`,
        },
      };
    },
  };
  return { engine, seen };
}

const line = (id: string, content: string, extra: Record<string, unknown> = { temperature: 0 }) =>
  JSON.stringify({
    custom_id: id,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'm', messages: [{ role: 'user', content }], ...extra },
  });

/** Creates, schedules and runs a batch to its chunks' completion; its output lines by custom_id. */
async function runBatch(
  deps: FakeDeps,
  lines: string[],
  engine: Engine,
  body: Partial<CreateBatchBody> = {},
  tenant = 'acme',
) {
  const { ref } = await createdBatch(deps, lines.join('\n'), body, tenant);
  await scheduleBatch(deps, ref);
  for (const msg of deps.queue.take<ChunkMessage>('spot')) await runChunk(deps, msg, { ...opts, engine });
  deps.queue.take('finalizing');
  const chunks = await deps.batches.listChunks(ref);
  const out = new Map<string, ResultLine>();
  for (const c of chunks)
    for (const l of deps.blobs
      .text(c.output_key ?? '')
      .split('\n')
      .filter(Boolean)) {
      const r = JSON.parse(l) as ResultLine;
      out.set(r.custom_id, r);
    }
  const record = await deps.batches.get(ref);
  if (!record) throw new Error('batch vanished');
  return { ref, out, record, chunks };
}

describe('dedup in runChunk', () => {
  it('answers a request seen before with its earlier answer, without running it, and counts it once', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '3', CHUNK_TAIL_MIN_LINES: '0' });
    const { engine, seen } = countingEngine();
    const first = await runBatch(
      deps,
      [line('a', 'q0'), line('b', 'q1'), line('c', 'q2'), line('d', 'q3')],
      engine,
    );
    expect(seen).toHaveLength(4);
    expect(deps.dedup.packs.size).toBe(2); // one pack per completed chunk with answers

    seen.length = 0;
    const second = await runBatch(
      deps,
      [line('x', 'new-0'), line('y', 'q1'), line('z', 'q3'), line('w', 'new-1')],
      engine,
    );
    expect(seen.sort()).toEqual(['new-0', 'new-1']);
    const reusedLine = second.out.get('y');
    const original = first.out.get('b');
    expect(reusedLine?.response).toEqual(original?.response); // same body, same request_id
    expect(reusedLine?.id).not.toBe(original?.id); // a line of its own batch
    expect(second.out.get('z')?.response).toEqual(first.out.get('d')?.response);
    expect(second.record).toMatchObject({ reused: 2, completed: 4 });
    expect(toBatchObject(second.record).openbatch).toMatchObject({ dedup: 'on', reused: 2 });
    expect(second.chunks.map((c) => c.reused ?? 0)).toEqual([2, 0]); // lines 1-3, then 4

    const rows = await listRequests(deps, second.ref, { limit: 10 });
    expect(rows.data.map((r) => [r.custom_id, r.reused])).toEqual([
      ['x', false],
      ['y', true],
      ['z', true],
      ['w', false],
    ]);
    // Only the new answers were recorded again.
    expect([...deps.dedup.packs.values()].reduce((n, p) => n + p.count, 0)).toBe(6);
  });

  it('reuses nothing and records nothing for a batch with dedup off', async () => {
    const deps = fakeDeps();
    const { engine, seen } = countingEngine();
    await runBatch(deps, [line('a', 'q0'), line('b', 'q1')], engine);
    const off = await runBatch(deps, [line('a', 'q0'), line('b', 'q1')], engine, {
      openbatch: { dedup: false },
    });
    expect(seen.sort()).toEqual(['q0', 'q0', 'q1', 'q1']);
    expect(off.record.reused ?? 0).toBe(0);
    expect(toBatchObject(off.record).openbatch).toMatchObject({ dedup: 'off', reused: 0 });
    expect(deps.dedup.packs.size).toBe(1);
  });

  it('reuses nothing when the deployment turns dedup off', async () => {
    const deps = fakeDeps({ DEDUP: 'off' });
    const { engine, seen } = countingEngine();
    await runBatch(deps, [line('a', 'q0')], engine);
    const again = await runBatch(deps, [line('a', 'q0')], engine, { openbatch: { dedup: true } });
    expect(seen).toHaveLength(2);
    expect(again.record.dedup).toBe('off');
    expect(deps.dedup.packs.size).toBe(0);
  });

  it('does not reuse requests that sample unless the batch asks for include_sampling', async () => {
    const deps = fakeDeps();
    const { engine, seen } = countingEngine();
    const sampled = [
      line('a', 's0', {}),
      line('b', 's1', { temperature: 0.8 }),
      line('c', 's2', { temperature: 0.8, seed: 7 }),
    ];
    await runBatch(deps, sampled, engine, { openbatch: { dedup: 'include_sampling' } });
    seen.length = 0;
    const on = await runBatch(deps, sampled, engine);
    // Only the seeded request is deterministic enough for the default mode.
    expect(seen.sort()).toEqual(['s0', 's1']);
    expect(on.record.reused).toBe(1);
    seen.length = 0;
    const all = await runBatch(deps, sampled, engine, { openbatch: { dedup: 'include_sampling' } });
    expect(seen).toEqual([]);
    expect(all.record.reused).toBe(3);
  });

  it('reuses only successful answers, and never another tenant’s', async () => {
    const deps = fakeDeps();
    const { engine, seen } = countingEngine((c) => c === 'bad');
    await runBatch(deps, [line('a', 'bad'), line('b', 'good')], engine);
    seen.length = 0;
    const again = await runBatch(deps, [line('a', 'bad'), line('b', 'good')], engine);
    expect(seen).toEqual(['bad']);
    expect(again.record).toMatchObject({ reused: 1, failed: 1 });
    seen.length = 0;
    const other = await runBatch(deps, [line('b', 'good')], engine, {}, 'globex');
    expect(seen).toEqual(['good']);
    expect(other.record.reused ?? 0).toBe(0);
  });

  it('counts reused lines once when an interrupted chunk resumes from its checkpoint', async () => {
    const deps = fakeDeps();
    const { engine, seen } = countingEngine();
    await runBatch(deps, [line('a', 'q0'), line('b', 'q1')], engine);
    seen.length = 0;
    const { ref } = await createdBatch(
      deps,
      [
        line('a', 'q0'),
        line('n1', 'n1'),
        line('b', 'q1'),
        line('n2', 'n2'),
        line('n3', 'n3'),
        line('n4', 'n4'),
      ].join('\n'),
    );
    await scheduleBatch(deps, ref);
    const [msg] = deps.queue.take<ChunkMessage>('spot');
    const first = await runChunk(deps, msg as ChunkMessage, {
      ...opts,
      concurrency: 1,
      engine,
      simulateInterruptionAfter: 1,
    });
    expect(first.outcome).toBe('handed-off');
    // The two reused lines and the one run are in the checkpoint: the resumed attempt counts them from it.
    expect((await deps.batches.listChunks(ref))[0]).toMatchObject({ checkpoint_lines: 3 });
    const [resumed] = deps.queue.take<ChunkMessage>('dedicated');
    const second = await runChunk(deps, resumed as ChunkMessage, { ...opts, pool: 'dedicated', engine });
    expect(second).toMatchObject({ outcome: 'completed', completed: 6 });
    expect(seen.sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(await deps.batches.get(ref)).toMatchObject({ reused: 2 });
    // The completing attempt records every new answer, the checkpointed one (n1) too.
    const newest = [...deps.dedup.packs.values()].sort((a, b) => b.pack.localeCompare(a.pack))[0];
    expect(newest?.count).toBe(4);
    const rows = await listRequests(deps, ref, { limit: 10 });
    expect(rows.data.filter((r) => r.reused).map((r) => r.custom_id)).toEqual(['a', 'b']);
  });
});
