import { describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../../../core/batches/batch-record.js';
import type { BatchRepo, BlobStorePort, QueuePort } from '../../../../core/ports.js';
import { measuredDeps } from '../../../../lambdas/shared/measured-deps.js';

async function* chunks(...parts: string[]) {
  for (const p of parts) yield Buffer.from(p);
}

class Blobs {
  readonly calls: string[] = [];
  async stream() {
    return chunks('{"a":1}\n{"a":', '2}\n{"a":3}');
  }
  async upload(_key: string, source: AsyncIterable<Buffer>) {
    let n = 0;
    for await (const b of source) n += b.length;
    return n;
  }
  async read(key: string) {
    // a method the measuring does not replace still runs on the instance itself
    this.calls.push(key);
    return Buffer.from('x');
  }
}

describe('measuredDeps', () => {
  it('counts the lines the flow consumed, the bytes it uploaded, and leaves other methods alone', async () => {
    const blobs = new Blobs();
    const { deps, counts } = measuredDeps({ blobs: blobs as unknown as BlobStorePort });
    const lines: string[] = [];
    for await (const part of await (deps.blobs as BlobStorePort).stream('in'))
      lines.push(Buffer.from(part).toString());
    expect(counts.linesRead).toBe(3);
    expect(await (deps.blobs as BlobStorePort).upload('out', chunks('12345', '678'))).toBe(8);
    expect(await (deps.blobs as BlobStorePort).upload('err', chunks('90'))).toBe(2);
    expect(counts.bytesWritten).toBe(10);
    await (deps.blobs as BlobStorePort).read('k');
    expect(blobs.calls).toEqual(['k']);
  });

  it('counts only the lines a reader pulled when it stops early', async () => {
    const { deps, counts } = measuredDeps({ blobs: new Blobs() as unknown as BlobStorePort });
    for await (const _ of await (deps.blobs as BlobStorePort).stream('in')) break;
    expect(counts.linesRead).toBe(1);
  });

  it('counts chunk messages sent to pool queues, not other queues', async () => {
    const sent: [string, number][] = [];
    const queue: QueuePort = {
      send: async (q) => {
        sent.push([q, 1]);
      },
      sendAll: async (q, bodies) => {
        sent.push([q, bodies.length]);
      },
    };
    const { deps, counts } = measuredDeps({ queue });
    await deps.queue?.sendAll('spot', [1, 2, 3]);
    await deps.queue?.send('dedicated', 4);
    await deps.queue?.send('finalizing', {});
    await deps.queue?.send('scheduling', {});
    expect(counts.chunksSent).toBe(4);
    expect(sent).toHaveLength(4);
  });

  it('counts the error codes of a batch that failed, and the running batches listed', async () => {
    const listed = [{ id: 'b1', status: 'in_progress' }] as BatchRecord[];
    const batches = {
      transition: async (_ref: unknown, to: string) =>
        to === 'failed' ? ({ id: 'b1' } as BatchRecord) : undefined,
      listActive: async () => listed,
    } as unknown as BatchRepo;
    const { deps, counts } = measuredDeps({ batches });
    const ref = { tenant: 't', batchId: 'b1' };
    const errors = [
      { code: 'invalid_json', message: 'm', param: null, line: 1 },
      { code: 'invalid_json', message: 'm', param: null, line: 2 },
      { code: 'missing_custom_id', message: 'm', param: null, line: 3 },
    ];
    await deps.batches?.transition(ref, 'failed', 1, { errors });
    await deps.batches?.transition(ref, 'in_progress', 1, { errors });
    expect([...counts.failureCodes]).toEqual([
      ['invalid_json', 2],
      ['missing_custom_id', 1],
    ]);
    expect(await deps.batches?.listActive()).toBe(listed);
    expect(counts.active).toEqual(listed);
  });
});
