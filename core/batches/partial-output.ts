import pLimit from 'p-limit';
import { z } from 'zod';
import { isMissingObject } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { ConflictError } from '../errors.js';
import { fileContent } from '../files/files-service.js';
import { getBatchRecord } from './batches-service.js';
import { isTerminal } from './lifecycle.js';

/** `?from_chunk=`: where a previous answer said to continue (its `openbatch-next-chunk`). */
export const partialOutputQuerySchema = z
  .object({ from_chunk: z.coerce.number().int().min(0).max(1_000_000).default(0) })
  .strict();

/** Parts read at once: a page of many small chunks pays a few GETs' latency, not one per chunk. */
const PARTS_AT_ONCE = 8;

type PartialDeps = Pick<Deps, 'batches' | 'files' | 'blobs' | 'limits' | 'clock'>;

export type PartialOutput =
  /** The batch still runs: the output lines of its done chunks from `fromChunk` on, in order. */
  | { partial: true; body: Buffer; chunksDone: number; chunkCount: number; nextChunk?: number }
  /** The batch has ended: its output file, as `GET /v1/files/{id}/content` serves it. */
  | ({ partial: false; filename: string } & ({ inline: Buffer } | { redirect: string }));

/**
 * `GET /v1/openbatch/batches/{id}/partial_output`: what a running batch has produced so far,
 * so a user need not wait for the whole batch to look at answers. Read from the done chunks'
 * output parts in chunk order (input order), up to the inline answer limit; `nextChunk` says
 * where to continue when more is done than one answer holds. Lines of a chunk still running
 * come with its completion. Once the batch has ended, the output file itself.
 */
export async function partialOutput(deps: PartialDeps, ref: BatchRef, fromChunk = 0): Promise<PartialOutput> {
  const batch = await getBatchRecord(deps, ref);
  if (isTerminal(batch.status)) {
    if (!batch.output_file_id)
      return { partial: false, filename: `${batch.id}_output.jsonl`, inline: Buffer.alloc(0) };
    return { partial: false, ...(await fileContent(deps, ref.tenant, batch.output_file_id)) };
  }
  const chunks = batch.chunk_count ? await deps.batches.listChunks(ref) : [];
  const done = chunks.filter((c) => c.status === 'done' && c.output_key && c.chunk >= fromChunk);
  // The parts that fit in one answer, by the sizes the workers recorded; read side by side.
  const chosen: typeof done = [];
  let planned = 0;
  for (const c of done) {
    const size = c.output_bytes ?? 0;
    if (chosen.length > 0 && planned + size > deps.limits.MAX_INLINE_CONTENT_BYTES) break;
    chosen.push(c);
    planned += size;
  }
  const read = pLimit(PARTS_AT_ONCE);
  const parts = await Promise.all(
    chosen.map((c) =>
      read(() =>
        deps.blobs.read(c.output_key as string).catch((err: unknown) => {
          // The finalizer removes the parts once it has written the output file.
          if (isMissingObject(err)) return undefined;
          throw err;
        }),
      ),
    ),
  );
  const pieces: Buffer[] = [];
  let bytes = 0;
  let nextChunk = done[chosen.length]?.chunk;
  for (const [i, part] of parts.entries()) {
    const c = chosen[i] as (typeof done)[number];
    if (!part) {
      // Nothing to give but a pointer back to where we are: the batch is being finalized.
      if (pieces.length === 0)
        throw new ConflictError(
          `Batch ${ref.batchId} is being finalized: its output file is complete once the batch is.`,
        );
      nextChunk = c.chunk;
      break;
    }
    // A part whose size was not recorded (an older worker) may not fit after all.
    if (pieces.length > 0 && bytes + part.length > deps.limits.MAX_INLINE_CONTENT_BYTES) {
      nextChunk = c.chunk;
      break;
    }
    pieces.push(part);
    bytes += part.length;
  }
  return {
    partial: true,
    body: Buffer.concat(pieces),
    chunksDone: chunks.filter((c) => c.status === 'done').length,
    chunkCount: batch.chunk_count ?? 0,
    ...(nextChunk !== undefined ? { nextChunk } : {}),
  };
}
