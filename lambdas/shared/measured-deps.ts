import type { Deps } from '../../core/app/deps.js';
import type { BatchRecord } from '../../core/batches/batch-record.js';
import type { BatchError } from '../../core/openai/schemas.js';

/**
 * What a flow did, counted at its ports rather than inside it: the flows stay free of metrics,
 * and the handler emits the counts once per record. Counted:
 *
 * - `linesRead`: lines of objects the flow streamed and consumed (the scheduler's input);
 * - `chunksSent`: chunk messages sent to a pool queue (spot or dedicated);
 * - `bytesWritten`: bytes of streamed uploads (the finalizer's output and error files);
 * - `failureCodes`: the error codes a batch failed with, by code;
 * - `active`: the running batches the flow listed (the SLA sweep's view at its start).
 */
export interface FlowCounts {
  linesRead: number;
  chunksSent: number;
  bytesWritten: number;
  failureCodes: Map<string, number>;
  active: BatchRecord[];
}

/** `target` with some methods replaced; every other method still runs on `target` itself. */
function intercept<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.hasOwn(overrides, p)) return overrides[p as keyof T];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

const NEWLINE = 0x0a;

/** Counts the lines of a stream as it is consumed: only what the reader pulled counts. */
async function* countingLines(source: AsyncIterable<Uint8Array>, counts: FlowCounts) {
  let last = NEWLINE;
  for await (const part of source) {
    for (const byte of part) if (byte === NEWLINE) counts.linesRead += 1;
    if (part.length > 0) last = part[part.length - 1] as number;
    yield part;
  }
  if (last !== NEWLINE) counts.linesRead += 1; // a last line without a newline
}

/** Chunk messages go to a pool queue: `spot`, `dedicated`, or another pool group's (`spot@<group>`). */
const isPoolQueue = (name: string) => /^(spot|dedicated)(@|$)/.test(name);

/** `deps` whose blob store, queue and batch table count what the flow does with them. */
export function measuredDeps<D extends Partial<Pick<Deps, 'blobs' | 'queue' | 'batches'>>>(
  deps: D,
): { deps: D; counts: FlowCounts } {
  const counts: FlowCounts = {
    linesRead: 0,
    chunksSent: 0,
    bytesWritten: 0,
    failureCodes: new Map(),
    active: [],
  };
  const out = { ...deps };
  const { blobs, queue, batches } = deps;
  if (blobs)
    out.blobs = intercept(blobs, {
      stream: async (key, range) => countingLines(await blobs.stream(key, range), counts),
      upload: async (key, source, contentType, known) => {
        const bytes = await blobs.upload(key, source, contentType, known);
        counts.bytesWritten += bytes;
        return bytes;
      },
    });
  if (queue)
    out.queue = intercept(queue, {
      send: async (name, body) => {
        await queue.send(name, body);
        if (isPoolQueue(name)) counts.chunksSent += 1;
      },
      sendAll: async (name, bodies) => {
        await queue.sendAll(name, bodies);
        if (isPoolQueue(name)) counts.chunksSent += bodies.length;
      },
    });
  if (batches)
    out.batches = intercept(batches, {
      transition: async (ref, to, nowS, fields, from) => {
        const moved = await batches.transition(ref, to, nowS, fields, from);
        if (moved && to === 'failed')
          for (const e of (fields?.errors ?? []) as BatchError[])
            counts.failureCodes.set(
              e.code ?? 'unknown',
              (counts.failureCodes.get(e.code ?? 'unknown') ?? 0) + 1,
            );
        return moved;
      },
      listActive: async () => {
        const active = await batches.listActive();
        counts.active.push(...active);
        return active;
      },
    });
  return { deps: out, counts };
}
