import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import { allChunksDone, type ChunkRecord } from '../chunks/chunk-record.js';
import { toUnixSeconds } from '../clock.js';
import { fileExpiresAt } from '../files/files-service.js';
import { isBlank, splitLines } from '../lines/split-lines.js';
import type { FileRecord } from '../ports.js';
import { expiredLine } from '../results/result-lines.js';
import type { BatchRecord } from './batch-record.js';
import type { EndReason } from './lifecycle.js';

type FinalizerDeps = Pick<Deps, 'batches' | 'files' | 'blobs' | 'clock' | 'ids' | 'limits'>;

export type FinalizeOutcome = 'finalized' | 'not-ready' | 'already-final' | 'claimed-elsewhere';

/** How long one finalizer owns a batch: the finalizer function's 15-minute timeout, and a minute more. */
export const FINALIZER_LEASE_S = 16 * 60;

/**
 * Result file ids derive from the (time-ordered) batch id, so a finalizer that runs twice (SQS
 * redelivery, or two workers both seeing the last chunk done) rewrites the same files instead
 * of adding new ones, and file listings still sort them by time.
 */
export const resultFileId = (batchId: string, kind: 'output' | 'error'): string =>
  `file-${batchId.replace(/^batch_/, '')}-${kind}`;

/**
 * Ends a batch: stitches the done chunks' parts, in input order, into the output and error
 * files (streamed, multipart), adds `batch_expired` lines for work the window cut off, and sets
 * the final status and request counts from the chunk records, the source of truth.
 */
export async function finalizeBatch(deps: FinalizerDeps, ref: BatchRef): Promise<FinalizeOutcome> {
  // The chunk records are read beside the batch: a running batch's finalizer needs both, and
  // one round trip fewer stands between the last answer and `completed`.
  const [found, listed] = await Promise.all([deps.batches.get(ref), deps.batches.listChunks(ref)]);
  let batch = found;
  if (!batch) return 'already-final';
  let chunks: ChunkRecord[] | undefined;
  // The finalizer that moves the batch to finalizing claims it in the same write: one round
  // trip fewer again.
  let claimed = false;

  if (batch.status === 'in_progress') {
    // Every chunk done: none changes any more. (A cancelled batch's are read after its claim,
    // below, when its workers have had their say.)
    chunks = listed;
    if (!allChunksDone(batch, chunks)) return 'not-ready';
    const nowS = toUnixSeconds(deps.clock.now());
    const moved = await deps.batches.transition(
      ref,
      'finalizing',
      nowS,
      { end_reason: 'completed', finalizer_lease: nowS + FINALIZER_LEASE_S },
      ['in_progress'],
    );
    claimed = moved !== undefined;
    batch = moved ?? (await deps.batches.get(ref));
    if (!batch) return 'already-final';
  }
  if (batch.status !== 'finalizing' && batch.status !== 'cancelling') return 'already-final';
  const nowS = toUnixSeconds(deps.clock.now());
  if (!claimed && !(await deps.batches.claimFinalization(ref, nowS, nowS + FINALIZER_LEASE_S)))
    return 'claimed-elsewhere';

  chunks ??= await deps.batches.listChunks(ref);
  chunks.sort((a, b) => a.chunk - b.chunk);
  const reason: EndReason = batch.status === 'cancelling' ? 'cancelled' : (batch.end_reason ?? 'completed');
  const done = chunks.filter((c) => c.status === 'done');
  const unfinished = reason === 'expired' ? chunks.filter((c) => c.status !== 'done') : [];

  const completed = done.reduce((n, c) => n + (c.completed ?? 0), 0);
  const failedInChunks = done.reduce((n, c) => n + (c.failed ?? 0), 0);
  const expired = unfinished.reduce((n, c) => n + c.requests, 0);

  const ending = batch;
  const outputParts = partsOf(done, 'output');
  const errorParts = partsOf(done, 'error');
  // The two files are written side by side: neither waits for the other's round trips.
  const [outputFileId, errorFileId] = await Promise.all([
    completed > 0
      ? writeResultFile(deps, ending, 'output', concatParts(deps, outputParts), lengthOf(outputParts))
      : undefined,
    failedInChunks + expired > 0
      ? writeResultFile(
          deps,
          ending,
          'error',
          errorLines(deps, errorParts, unfinished, ending.input_key),
          // Expired lines are made here: their length is known once written.
          unfinished.length === 0 ? lengthOf(errorParts) : undefined,
        )
      : undefined,
  ]);

  const final = reason === 'cancelled' ? 'cancelled' : reason;
  await deps.batches.transition(
    ref,
    final,
    toUnixSeconds(deps.clock.now()),
    {
      completed,
      failed: failedInChunks + expired,
      ...(outputFileId ? { output_file_id: outputFileId } : {}),
      ...(errorFileId ? { error_file_id: errorFileId } : {}),
    },
    [batch.status],
  );
  // The files are final: chunk parts, losing attempts' parts and checkpoints can go, and the
  // input file may be deleted again.
  await deps.blobs.deletePrefix(keys.batchWork(batch.tenant, batch.id));
  await deps.files.release(batch.tenant, batch.input_file_id, batch.id);
  return 'finalized';
}

/** One chunk's part: its key, and its size when the worker recorded it. */
interface Part {
  key: string;
  bytes: number | undefined;
}

/** The done chunks' `kind` parts, in chunk order (a chunk without such lines has none). */
const partsOf = (done: readonly ChunkRecord[], kind: 'output' | 'error'): Part[] =>
  done.flatMap((c) => {
    const key = kind === 'output' ? c.output_key : c.error_key;
    return key ? [{ key, bytes: kind === 'output' ? c.output_bytes : c.error_bytes }] : [];
  });

/** The parts' length together, from the sizes their workers recorded; undefined if one is not. */
const lengthOf = (parts: readonly Part[]): number | undefined =>
  parts.every((p) => p.bytes !== undefined) ? parts.reduce((n, p) => n + (p.bytes as number), 0) : undefined;

async function writeResultFile(
  deps: FinalizerDeps,
  batch: BatchRecord,
  kind: 'output' | 'error',
  content: AsyncIterable<Buffer>,
  knownBytes: number | undefined,
): Promise<string> {
  const id = resultFileId(batch.id, kind);
  const s3Key = keys.file(batch.tenant, id);
  // Of a known length, the parts are written as they are read (core/adapters/blob-store.ts).
  const bytes = await deps.blobs.upload(s3Key, content, 'application/jsonl', knownBytes);
  const createdAt = toUnixSeconds(deps.clock.now());
  const record: FileRecord = {
    tenant: batch.tenant,
    id,
    filename: `${batch.id}_${kind}.jsonl`,
    purpose: 'batch_output',
    bytes,
    created_at: createdAt,
    // The batch's output_expires_after counts from the file's creation (OpenAI's `created_at` anchor).
    expires_at: fileExpiresAt(deps, createdAt, batch.output_expires_after),
    s3_key: s3Key,
  };
  await deps.files.put(record);
  return id;
}

/** Parts requested ahead of the one being written: their GETs overlap the write. */
const PARTS_AHEAD = 8;
/**
 * Bytes of parts read whole into memory ahead of the write. A response left open only holds its
 * socket's buffer, so the parts behind the one being written would be read one after the other;
 * read whole, their GETs run side by side. Well inside the finalizer's memory.
 */
const READ_AHEAD_BYTES = 32 * 1024 * 1024;

type Fetched = { whole: Buffer } | { stream: AsyncIterable<Uint8Array> };

/**
 * The parts' bytes in order, each part's GET sent while the parts before it are still being
 * written: a batch of many chunks pays about one GET's latency, not one per chunk. Parts of a
 * known size are read whole, up to PARTS_AHEAD of them and READ_AHEAD_BYTES together; a part of
 * unknown size or larger than that is streamed when its turn comes.
 */
async function* concatParts(deps: Pick<Deps, 'blobs'>, parts: readonly Part[]): AsyncGenerator<Buffer> {
  const ahead: { fetched: Promise<Fetched>; bytes: number }[] = [];
  let held = 0;
  let next = 0;
  const fetchMore = () => {
    while (next < parts.length && ahead.length < PARTS_AHEAD) {
      const part = parts[next] as Part;
      const whole = part.bytes !== undefined && held + part.bytes <= READ_AHEAD_BYTES;
      // A part to stream waits until it is next: an open response would hold up the reads behind it.
      if (!whole && ahead.length > 0) return;
      next += 1;
      const bytes = whole ? (part.bytes as number) : 0;
      const fetched: Promise<Fetched> = whole
        ? deps.blobs.read(part.key).then((b) => ({ whole: b }))
        : deps.blobs.stream(part.key).then((s) => ({ stream: s }));
      fetched.catch(() => {}); // awaited in turn below; a failure surfaces there
      held += bytes;
      ahead.push({ fetched, bytes });
    }
  };
  try {
    fetchMore();
    while (ahead.length > 0) {
      const { fetched, bytes } = ahead.shift() as (typeof ahead)[number];
      const got = await fetched;

      held -= bytes;
      if ('whole' in got) {
        fetchMore();
        yield got.whole;
      } else {
        for await (const piece of got.stream) yield Buffer.from(piece);
        fetchMore();
      }
    }
  } finally {
    // Stopped early (a failed upload): a response opened ahead is closed, not left to time out.
    for (const { fetched } of ahead)
      void fetched
        .then((f) => ('stream' in f ? (f.stream as { destroy?: () => void }).destroy?.() : undefined))
        .catch(() => {});
  }
}

async function* errorLines(
  deps: Pick<Deps, 'blobs' | 'ids'>,
  errorParts: readonly Part[],
  unfinished: readonly ChunkRecord[],
  inputKey: string,
): AsyncGenerator<Buffer> {
  yield* concatParts(deps, errorParts);
  for (const c of unfinished) {
    const source = await deps.blobs.stream(inputKey, { start: c.byteStart, end: c.byteEnd });
    const out: string[] = [];
    for await (const line of splitLines(source, { startOffset: c.byteStart, firstLineNumber: c.lineStart })) {
      if ('tooLong' in line || isBlank(line.bytes)) continue;
      const { custom_id } = JSON.parse(line.bytes.toString('utf8')) as { custom_id: string };
      out.push(`${JSON.stringify(expiredLine(deps.ids.requestLineId(), custom_id))}\n`);
    }
    yield Buffer.from(out.join(''));
  }
}
