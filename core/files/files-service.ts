import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import { isTerminal } from '../batches/lifecycle.js';
import { planUploadedFile } from '../chunks/file-plan.js';
import { toUnixSeconds } from '../clock.js';
import { BadRequestError, ConflictError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { ExpiresAfter, FileObject, ListPage } from '../openai/schemas.js';
import type { FileRecord } from '../ports.js';

export const toFileObject = (r: FileRecord): FileObject => ({
  id: r.id,
  object: 'file',
  bytes: r.bytes,
  created_at: r.created_at,
  expires_at: r.expires_at,
  filename: r.filename,
  purpose: r.purpose,
  status: 'processed',
  status_details: null,
});

type FilesDeps = Pick<Deps, 'files' | 'blobs' | 'clock' | 'ids' | 'limits'>;

export async function createFile(
  deps: FilesDeps,
  tenant: string,
  input: { filename: string; purpose: string; content: Buffer; expiresAfter?: ExpiresAfter },
  observe: { linesValidated?(lines: number): void } = {},
): Promise<FileObject> {
  if (input.purpose !== 'batch') {
    throw new BadRequestError(
      `Invalid purpose '${input.purpose}': openbatch accepts files with purpose 'batch'.`,
      'purpose',
    );
  }
  if (input.content.length > deps.limits.MAX_API_UPLOAD_BYTES) {
    throw new PayloadTooLargeError(
      `File is ${input.content.length} bytes; direct uploads take at most ${deps.limits.MAX_API_UPLOAD_BYTES} bytes. ` +
        'Use the Uploads API (/v1/uploads) with pre-signed part URLs for larger files.',
      'file',
    );
  }
  if (input.content.length === 0) throw new BadRequestError('The file is empty.', 'file');
  const id = deps.ids.fileId();
  const createdAt = toUnixSeconds(deps.clock.now());
  // Validated now, while its bytes are in memory: a batch created from it starts sooner.
  const { plan, lines } = await planUploadedFile(input.content, deps.limits);
  observe.linesValidated?.(lines);
  const record: FileRecord = {
    tenant,
    id,
    filename: input.filename,
    purpose: input.purpose,
    bytes: input.content.length,
    created_at: createdAt,
    expires_at: fileExpiresAt(deps, createdAt, input.expiresAfter),
    s3_key: keys.file(tenant, id),
    ...(plan ? { plan } : {}),
  };
  await deps.blobs.put(record.s3_key, input.content);
  await deps.files.put(record);
  return toFileObject(record);
}

/**
 * When a file created at `createdAt` expires: `expires_after.seconds` after its creation when the
 * caller set a policy (OpenAI's only anchor is `created_at`), else the retention period.
 */
export const fileExpiresAt = (
  deps: Pick<Deps, 'limits'>,
  createdAt: number,
  expiresAfter: ExpiresAfter | null | undefined,
): number => createdAt + (expiresAfter ? expiresAfter.seconds : deps.limits.FILE_RETENTION_DAYS * 86_400);

/** A file past its `expires_at` is gone for the client at once, whether or not swept yet. */
export const isExpired = (r: FileRecord, nowMs: number): boolean =>
  r.expires_at !== null && r.expires_at <= toUnixSeconds(nowMs);

export async function getFileRecord(
  deps: Pick<Deps, 'files' | 'clock'>,
  tenant: string,
  id: string,
): Promise<FileRecord> {
  const record = await deps.files.get(tenant, id);
  if (!record || isExpired(record, deps.clock.now()))
    throw new NotFoundError(`No such File object: ${id}`, 'id');
  return record;
}

/**
 * The sweep's part (OpenAI's `expires_after` and the retention): deletes files past their
 * `expires_at` and their bytes, except those a running batch still reads, which go once it ends.
 */
export async function expireFiles(deps: Pick<Deps, 'files' | 'blobs' | 'clock'>): Promise<string[]> {
  const deleted: string[] = [];
  for (const file of await deps.files.listExpired(toUnixSeconds(deps.clock.now()))) {
    if (!(await deps.files.deleteIfUnused(file.tenant, file.id)).deleted) continue;
    await deps.blobs.delete(file.s3_key);
    deleted.push(file.id);
  }
  return deleted;
}

export async function listFiles(
  deps: Pick<Deps, 'files'>,
  tenant: string,
  query: { after?: string; limit: number; order: 'asc' | 'desc'; purpose?: string },
): Promise<ListPage<FileObject>> {
  const { items, hasMore } = await deps.files.list(tenant, query);
  const data = items.map(toFileObject);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}

/**
 * Small files come back inline; larger ones by a short-lived pre-signed S3 URL (Lambda answers
 * at most 6 MB). Either way the download is named after the file.
 */
export async function fileContent(
  deps: Pick<Deps, 'files' | 'blobs' | 'limits' | 'clock'>,
  tenant: string,
  id: string,
): Promise<{ filename: string } & ({ inline: Buffer } | { redirect: string })> {
  const record = await getFileRecord(deps, tenant, id);
  if (record.bytes > deps.limits.MAX_INLINE_CONTENT_BYTES) {
    return {
      filename: record.filename,
      redirect: await deps.blobs.presignedGetUrl(record.s3_key, record.filename),
    };
  }
  return { filename: record.filename, inline: await deps.blobs.read(record.s3_key) };
}

/**
 * Deletes a file and its bytes, unless it is the input of a batch that has not ended: that
 * batch still reads it (workers, and the finalizer for `batch_expired` lines), so the delete is
 * refused with 409. A hold left by a batch that has ended (a crash before its release) is
 * cleared here, then the delete goes ahead.
 */
export async function deleteFile(
  deps: Pick<Deps, 'files' | 'blobs' | 'batches' | 'clock'>,
  tenant: string,
  id: string,
): Promise<{ id: string; object: 'file'; deleted: true }> {
  const record = await getFileRecord(deps, tenant, id);
  for (let attempt = 0; ; attempt++) {
    const outcome = await deps.files.deleteIfUnused(tenant, id);
    if (outcome.deleted) break;
    const running: string[] = [];
    for (const batchId of outcome.heldBy) {
      const batch = await deps.batches.get({ tenant, batchId });
      if (batch && !isTerminal(batch.status)) running.push(batchId);
      else await deps.files.release(tenant, id, batchId);
    }
    if (running.length > 0 || attempt > 0) {
      throw new ConflictError(
        `File ${id} is the input of batch ${running.join(', ') || 'that is starting'}, which has not ended; cancel the batch or wait for it to end before deleting the file.`,
      );
    }
  }
  await deps.blobs.delete(record.s3_key);
  return { id, object: 'file', deleted: true };
}
