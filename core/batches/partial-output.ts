import { z } from 'zod';
import type { Deps } from '../app/deps.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { fileContent } from '../files/files-service.js';
import { getBatchRecord } from './batches-service.js';
import { isTerminal } from './lifecycle.js';

/** `?from_chunk=`: where a previous answer said to continue (its `openbatch-next-chunk`). */
export const partialOutputQuerySchema = z
  .object({ from_chunk: z.coerce.number().int().min(0).max(1_000_000).default(0) })
  .strict();

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
  const pieces: Buffer[] = [];
  let bytes = 0;
  let nextChunk: number | undefined;
  for (const c of done) {
    // A part's size is on its chunk record (workers write it); an older record is read to see.
    const known = c.output_bytes;
    if (known !== undefined && pieces.length > 0 && bytes + known > deps.limits.MAX_INLINE_CONTENT_BYTES) {
      nextChunk = c.chunk;
      break;
    }
    const part = await deps.blobs.read(c.output_key as string).catch((err: unknown) => {
      // The finalizer removes the parts once the output file is written: the rest comes from there.
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    });
    if (!part) {
      nextChunk = c.chunk;
      break;
    }
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
