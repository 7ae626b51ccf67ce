import type { ApiClient } from '../../../lib/api-client';
import { saveBlob } from './file-content';

/**
 * One answer of `GET /v1/openbatch/batches/{id}/partial_output?from_chunk=N`: output lines of
 * the done chunks from chunk N on, in input order. `partial` is false once the batch has ended:
 * the body is then its whole output file.
 */
export interface PartialOutputPage {
  body: Blob;
  partial: boolean;
  /** `openbatch-chunks-done`: chunks done of all the batch's chunks. */
  chunksDone?: { done: number; total: number };
  /** `openbatch-next-chunk`: more is done than one answer holds; continue from this chunk. */
  nextChunk?: number;
}

/**
 * What the headers of an answer say. The header `openbatch-partial: true` marks the output of a
 * running batch; an ended batch's answer says `false`, or is a redirect to its output file in
 * storage (whose answer carries none of openbatch's headers).
 */
export function readPartialHeaders(headers: Headers): Omit<PartialOutputPage, 'body'> {
  const partial = headers.get('openbatch-partial') === 'true';
  const done = /^(\d+)\/(\d+)$/.exec(headers.get('openbatch-chunks-done') ?? '');
  const next = headers.get('openbatch-next-chunk');
  return {
    partial,
    ...(partial && done ? { chunksDone: { done: Number(done[1]), total: Number(done[2]) } } : {}),
    ...(partial && next !== null && /^\d+$/.test(next) ? { nextChunk: Number(next) } : {}),
  };
}

export interface PartialOutput {
  /** The pieces of the file, in input order. */
  parts: Blob[];
  /** True while the batch runs: the file holds only the chunks done so far. */
  partial: boolean;
  chunksDone?: { done: number; total: number };
  /** Answers it took. */
  pages: number;
}

export class PartialOutputError extends Error {
  override name = 'PartialOutputError';
}

/**
 * The output so far, continued with `from_chunk` for as long as the API says there is more
 * (`openbatch-next-chunk`), each chunk read once. If the batch ends between two answers, the
 * last answer is its whole output file, which replaces what was read before. An answer that
 * does not move past its own `from_chunk` (the parts already stitched into the output file
 * while the batch finalizes) stops with a message, rather than asking again forever.
 */
export async function collectPartialOutput(
  fetchPage: (fromChunk: number) => Promise<PartialOutputPage>,
  maxPages = 10_000,
): Promise<PartialOutput> {
  const parts: Blob[] = [];
  let from = 0;
  let chunksDone: PartialOutput['chunksDone'];
  for (let pages = 1; pages <= maxPages; pages += 1) {
    const page = await fetchPage(from);
    if (!page.partial) return { parts: [page.body], partial: false, pages };
    parts.push(page.body);
    chunksDone = page.chunksDone ?? chunksDone;
    if (page.nextChunk === undefined)
      return { parts, partial: true, pages, ...(chunksDone ? { chunksDone } : {}) };
    if (page.nextChunk <= from)
      throw new PartialOutputError(
        'The batch is being finalized: its output so far is moving into the output file. Download that once it completes.',
      );
    from = page.nextChunk;
  }
  throw new PartialOutputError(
    `The output so far took more than ${maxPages} answers; download the output file instead.`,
  );
}

/** One answer of the partial output endpoint, through the API client (bearer key, error shape). */
export async function fetchPartialOutputPage(
  client: ApiClient,
  batchId: string,
  fromChunk: number,
): Promise<PartialOutputPage> {
  const res = await client.raw(`/openbatch/batches/${encodeURIComponent(batchId)}/partial_output`, {
    method: 'GET',
    ...(fromChunk > 0 ? { query: { from_chunk: fromChunk } } : {}),
  });
  return { ...readPartialHeaders(res.headers), body: await res.blob() };
}

/** The file's name: marked `_partial` unless it is the whole output. */
export const partialOutputFilename = (batchId: string, partial: boolean) =>
  `${batchId}_output${partial ? '_partial' : ''}.jsonl`;

/** Downloads a running batch's output so far to the user's disk, named as partial. */
export async function downloadPartialOutput(
  client: ApiClient,
  batchId: string,
): Promise<PartialOutput & { filename: string; bytes: number }> {
  const out = await collectPartialOutput((from) => fetchPartialOutputPage(client, batchId, from));
  const blob = new Blob(out.parts, { type: 'application/jsonl' });
  const filename = partialOutputFilename(batchId, out.partial);
  saveBlob(blob, filename);
  return { ...out, filename, bytes: blob.size };
}
