import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import { toUnixSeconds } from '../clock.js';
import { BadRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { FileObject, ListPage } from '../openai/schemas.js';
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
  input: { filename: string; purpose: string; content: Buffer },
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
  const id = deps.ids.fileId();
  const now = deps.clock.now();
  const record: FileRecord = {
    tenant,
    id,
    filename: input.filename,
    purpose: input.purpose,
    bytes: input.content.length,
    created_at: toUnixSeconds(now),
    expires_at: toUnixSeconds(now + deps.limits.FILE_RETENTION_DAYS * 86_400_000),
    s3_key: keys.file(tenant, id),
  };
  await deps.blobs.put(record.s3_key, input.content);
  await deps.files.put(record);
  return toFileObject(record);
}

export async function getFileRecord(
  deps: Pick<Deps, 'files'>,
  tenant: string,
  id: string,
): Promise<FileRecord> {
  const record = await deps.files.get(tenant, id);
  if (!record) throw new NotFoundError(`No such File object: ${id}`, 'id');
  return record;
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
  deps: Pick<Deps, 'files' | 'blobs' | 'limits'>,
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

export async function deleteFile(
  deps: Pick<Deps, 'files' | 'blobs'>,
  tenant: string,
  id: string,
): Promise<{ id: string; object: 'file'; deleted: true }> {
  const record = await getFileRecord(deps, tenant, id);
  await deps.files.delete(tenant, id);
  await deps.blobs.delete(record.s3_key);
  return { id, object: 'file', deleted: true };
}
