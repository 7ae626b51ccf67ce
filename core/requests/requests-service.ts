import { isMissingObject, keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import type { BatchRecord } from '../batches/batch-record.js';
import { createBatch, getBatchRecord } from '../batches/batches-service.js';
import { isTerminal } from '../batches/lifecycle.js';
import type { BatchRef } from '../chunks/chunk-message.js';
import type { ChunkRecord } from '../chunks/chunk-record.js';
import { toUnixSeconds } from '../clock.js';
import { dedupRequestOf } from '../dedup/normalise.js';
import { ApiError, BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { fileExpiresAt } from '../files/files-service.js';
import type {
  BatchObject,
  BatchRequestDetail,
  BatchRequestView,
  ListPage,
  ListRequestsQuery,
  RetryBody,
} from '../openai/schemas.js';
import type { FileRecord } from '../ports.js';
import { expiredLineOf, findLine, type ResolvedLine, ResultSources, readChunk } from './read-requests.js';
import { chunkMayHave, chunkResolution, lineOfRequestId, retrySelection, selects } from './request-status.js';

/**
 * Chunks whose objects one page may read (each at most three GETs: input range, output and
 * error lines), once it holds a request: a page filtered by a rare status stops there and says
 * `has_more`, rather than reading the whole batch in one call.
 */
export const MAX_CHUNKS_READ_PER_PAGE = 8;

type ReadDeps = Pick<Deps, 'batches' | 'blobs'>;

/** A batch and its chunk records, in chunk order. */
async function load(deps: ReadDeps, ref: BatchRef): Promise<{ batch: BatchRecord; chunks: ChunkRecord[] }> {
  const batch = await getBatchRecord(deps, ref);
  const chunks = (await deps.batches.listChunks(ref)).sort((a, b) => a.chunk - b.chunk);
  return { batch, chunks };
}

/**
 * Runs `read` on the batch as it is now. A batch that ended meanwhile has had its parts
 * deleted (the finalizer removes them once the final files are written): read again from the
 * final files. A final file that is gone (deleted by its owner, or expired) is a 404.
 */
async function withBatch<T>(
  deps: ReadDeps,
  ref: BatchRef,
  read: (batch: BatchRecord, chunks: ChunkRecord[]) => Promise<T>,
): Promise<T> {
  const first = await load(deps, ref);
  try {
    return await read(first.batch, first.chunks);
  } catch (err) {
    if (!isMissingObject(err)) throw err;
    const again = await load(deps, ref);
    if (!isTerminal(first.batch.status) && again.batch.status !== first.batch.status) {
      try {
        return await read(again.batch, again.chunks);
      } catch (err2) {
        if (!isMissingObject(err2)) throw err2;
      }
    }
    throw new NotFoundError(
      `The input, output or error file of batch ${ref.batchId} is gone (deleted or expired): its requests can no longer be read.`,
      'batch_id',
    );
  }
}

/**
 * `GET /v1/openbatch/batches/{batch_id}/requests`: the batch's requests in input-line order,
 * `limit` at a time after the cursor, filtered by status or custom_id. A page reads only the
 * chunks it covers, and none whose record rules the status filter out.
 */
export async function listRequests(
  deps: ReadDeps,
  ref: BatchRef,
  query: ListRequestsQuery,
): Promise<ListPage<BatchRequestView>> {
  return withBatch(deps, ref, async (batch, chunks) => {
    const after = query.after ? lineOfRequestId(query.after) : 0;
    const wanted = query.status ? new Set([query.status]) : undefined;
    const sources = new ResultSources(batch, chunks);
    const data: BatchRequestView[] = [];
    let hasMore = false;

    if (query.custom_id !== undefined) {
      const found = await findLine(deps, batch, chunks, query.custom_id);
      if (found && found.line > after) {
        const line = await lineIn(deps, batch, found.chunk, sources, found.line);
        if (line && (!wanted || wanted.has(line.view.status))) data.push(line.view);
      }
    } else {
      let read = 0;
      for (const chunk of chunks) {
        if (chunk.lineEnd <= after || chunk.requests === 0) continue;
        if (wanted && !chunkMayHave(chunkResolution(batch, chunk), chunk, wanted)) continue;
        // The page is full and this chunk may hold more: said without reading it.
        if (data.length === query.limit || (read >= MAX_CHUNKS_READ_PER_PAGE && data.length > 0)) {
          hasMore = true;
          break;
        }
        read += 1;
        for await (const l of readChunk(deps, batch, chunk, sources, { outputs: true })) {
          if (l.line <= after || (wanted && !wanted.has(l.view.status))) continue;
          if (data.length === query.limit) {
            hasMore = true;
            break;
          }
          data.push(l.view);
        }
        if (hasMore) break;
      }
    }
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: hasMore,
    };
  });
}

async function lineIn(
  deps: ReadDeps,
  batch: BatchRecord,
  chunk: ChunkRecord,
  sources: ResultSources,
  line: number,
): Promise<(ResolvedLine & { index: number }) | undefined> {
  let index = 0;
  for await (const l of readChunk(deps, batch, chunk, sources, { outputs: true })) {
    if (l.line === line) return { ...l, index };
    index += 1;
  }
  return undefined;
}

/**
 * `GET /v1/openbatch/batches/{batch_id}/requests/{custom_id}`: one request with its input and,
 * once it has one, its output or error line.
 */
export async function getRequest(
  deps: Pick<Deps, 'batches' | 'blobs' | 'files'>,
  ref: BatchRef,
  customId: string,
): Promise<BatchRequestDetail> {
  return withBatch(deps, ref, async (batch, chunks) => {
    const found = await findLine(deps, batch, chunks, customId);
    const sources = new ResultSources(batch, chunks);
    const line = found && (await lineIn(deps, batch, found.chunk, sources, found.line));
    if (!line)
      throw new NotFoundError(`No request with custom_id '${customId}' in batch ${batch.id}.`, 'custom_id');
    let result = line.result;
    if (line.view.status === 'expired' && sources.final) {
      const errorFile = batch.error_file_id
        ? await deps.files.get(batch.tenant, batch.error_file_id)
        : undefined;
      result = await expiredLineOf(deps, sources, line.chunk, line.index, errorFile?.bytes);
    }
    return {
      ...line.view,
      method: line.request.method,
      url: line.request.url,
      body: line.request.body,
      result: result ?? null,
    };
  });
}

/** Statuses a batch can be retried in: it has ended, with requests that ran, expired or were cancelled. */
const RETRIABLE_BATCH = new Set(['completed', 'expired', 'cancelled']);

/**
 * `POST /v1/openbatch/batches/{batch_id}/retry`: a new input file of exactly the selected
 * lines (their bytes copied unchanged from the input file, streamed chunk by chunk, reading
 * only chunks that can hold a selected line) and a new batch on it with the source's endpoint,
 * completion window, metadata, output expiry and priority. The new batch names its source
 * (`openbatch.retry_of`) and the source its retries (`openbatch.retries`).
 */
export async function retryBatch(
  deps: Pick<Deps, 'batches' | 'blobs' | 'files' | 'queue' | 'clock' | 'ids' | 'limits' | 'sla'>,
  ref: BatchRef,
  body: RetryBody,
): Promise<BatchObject> {
  const selection = retrySelection(body);
  const fileId = deps.ids.fileId();
  const s3Key = keys.file(ref.tenant, fileId);
  const source = await withBatch(deps, ref, async (batch, chunks) => {
    if (!RETRIABLE_BATCH.has(batch.status))
      throw new ConflictError(
        `Cannot retry a batch with status '${batch.status}': only completed, expired and cancelled batches can be retried.`,
      );
    const sources = new ResultSources(batch, chunks);
    // Outputs are read only when a succeeded request may be chosen by its HTTP status.
    const outputs = selection.statuses.has('succeeded') && selection.httpStatuses !== undefined;
    const lines = (async function* () {
      for (const chunk of chunks) {
        if (!selection.customIds && !chunkMayHave(chunkResolution(batch, chunk), chunk, selection.statuses))
          continue;
        for await (const l of readChunk(deps, batch, chunk, sources, { outputs }))
          if (selects(selection, l.view)) yield Buffer.concat([l.bytes, Buffer.from('\n')]);
      }
    })();
    // The first selected line is found before anything is written: nothing selected writes nothing.
    const first = await lines.next();
    if (first.done) {
      throw new BadRequestError(
        `No request of batch ${batch.id} matches the retry filter${body.custom_ids || body.statuses || body.error_codes || body.http_statuses ? '' : ' (by default its failed and expired requests)'}.`,
      );
    }
    const bytes = await deps.blobs.upload(
      s3Key,
      (async function* () {
        yield first.value;
        yield* lines;
      })(),
    );
    return { batch, bytes };
  });

  const createdAt = toUnixSeconds(deps.clock.now());
  const file: FileRecord = {
    tenant: ref.tenant,
    id: fileId,
    filename: `${source.batch.id}_retry.jsonl`,
    purpose: 'batch',
    bytes: source.bytes,
    created_at: createdAt,
    expires_at: fileExpiresAt(deps, createdAt, undefined),
    s3_key: s3Key,
  };
  await deps.files.put(file);
  const retry = await createBatch(
    deps,
    ref.tenant,
    {
      input_file_id: fileId,
      endpoint: source.batch.endpoint,
      completion_window: source.batch.completion_window,
      metadata: source.batch.metadata ?? null,
      output_expires_after: source.batch.output_expires_after ?? null,
      priority: source.batch.priority,
      // Deduplication as the source had it (off for a batch created before it existed).
      openbatch: { dedup: dedupRequestOf(source.batch.dedup ?? 'off') },
    },
    { retryOf: source.batch.id },
  ).catch((err: unknown) => {
    // The file stays (a batch file like any other, swept at its expiry): the answer names it,
    // so the selected requests can still be run, say with another completion window.
    if (err instanceof ApiError)
      throw new ApiError(
        err.status,
        `${err.message} The requests selected for the retry are in file ${fileId}.`,
        err.type,
        err.param,
        err.code,
      );
    throw err;
  });
  await deps.batches.addRetry(ref, retry.id);
  return retry;
}
