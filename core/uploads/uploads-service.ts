import { createHash } from 'node:crypto';
import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import { StreamingFilePlanner } from '../chunks/file-plan.js';
import { toUnixSeconds } from '../clock.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { toFileObject } from '../files/files-service.js';
import type {
  CompleteUploadBody,
  CreateUploadBody,
  UploadObject,
  UploadPartObject,
} from '../openai/schemas.js';
import type { FileRecord } from '../ports.js';
import {
  assertPending,
  checkS3Parts,
  orderParts,
  toUploadObject,
  toUploadPartObject,
  UPLOAD_LIFETIME_S,
  type UploadPartRecord,
  type UploadRecord,
} from './upload-record.js';

type UploadDeps = Pick<Deps, 'uploads' | 'files' | 'blobs' | 'clock' | 'ids' | 'limits'>;

const nowS = (deps: Pick<Deps, 'clock'>) => toUnixSeconds(deps.clock.now());

async function getUpload(deps: Pick<Deps, 'uploads'>, tenant: string, id: string): Promise<UploadRecord> {
  const upload = await deps.uploads.get(tenant, id);
  if (!upload) throw new NotFoundError(`No such Upload object: ${id}`, 'upload_id');
  return upload;
}

/** `POST /v1/uploads`: an upload that parts are added to, due within the hour. */
export async function createUpload(
  deps: UploadDeps,
  tenant: string,
  body: CreateUploadBody,
): Promise<UploadObject> {
  if (body.purpose !== 'batch') {
    throw new BadRequestError(
      `Invalid purpose '${body.purpose}': openbatch accepts files with purpose 'batch'.`,
      'purpose',
    );
  }
  if (body.bytes > deps.limits.MAX_UPLOAD_BYTES) {
    throw new BadRequestError(
      `bytes is ${body.bytes}; an Upload takes at most ${deps.limits.MAX_UPLOAD_BYTES} bytes.`,
      'bytes',
    );
  }
  const created = nowS(deps);
  const fileId = deps.ids.fileId();
  const record: UploadRecord = {
    tenant,
    id: deps.ids.uploadId(),
    filename: body.filename,
    purpose: body.purpose,
    bytes: body.bytes,
    mime_type: body.mime_type,
    created_at: created,
    expires_at: created + UPLOAD_LIFETIME_S,
    status: 'pending',
    file_id: fileId,
    s3_key: keys.file(tenant, fileId),
    ...(body.expires_after ? { file_expires_after: body.expires_after } : {}),
    active: 'yes',
  };
  await deps.uploads.create(record);
  return toUploadObject(record, created);
}

/** `POST /v1/uploads/{id}/parts`: one part's bytes, through the API (small parts; see part URLs). */
export async function addUploadPart(
  deps: UploadDeps,
  tenant: string,
  uploadId: string,
  data: Buffer,
): Promise<UploadPartObject> {
  const upload = await getUpload(deps, tenant, uploadId);
  assertPending(upload, nowS(deps), 'add parts to');
  if (upload.s3_upload_id) {
    throw new BadRequestError(
      'This Upload takes pre-signed parts (openbatch part URLs); add the rest of its parts that way.',
      null,
      'upload_mode_mismatch',
    );
  }
  if (data.length === 0) throw new BadRequestError('A part must hold at least one byte.', 'data');
  const partId = deps.ids.partId();
  const part: UploadPartRecord = {
    tenant,
    id: `${uploadId}#${partId}`,
    upload_id: uploadId,
    part_id: partId,
    bytes: data.length,
    s3_key: keys.uploadPart(tenant, uploadId, partId),
    created_at: nowS(deps),
  };
  await deps.blobs.put(part.s3_key, data, 'application/octet-stream');
  await deps.uploads.putPart(part);
  return toUploadPartObject(part);
}

/**
 * `POST /v1/uploads/{id}/complete`: the parts, in the order given, become the upload's File.
 * API parts are stitched here (streamed, hashing and validating on the way: the File gets its
 * plan, core/chunks/file-plan.ts); pre-signed parts are already in S3 as one multipart upload,
 * which S3 assembles without their bytes passing here, so that File is validated at create.
 */
export async function completeUpload(
  deps: UploadDeps,
  tenant: string,
  uploadId: string,
  body: CompleteUploadBody,
  observe: { linesValidated?(lines: number): void } = {},
): Promise<UploadObject> {
  const upload = await getUpload(deps, tenant, uploadId);
  if (upload.status === 'completed')
    throw new BadRequestError(`Upload ${uploadId} is already completed.`, null, 'upload_completed');
  assertPending(upload, nowS(deps), 'complete');

  let plan: string | undefined;
  if (upload.s3_upload_id) await completePresigned(deps, upload, upload.s3_upload_id, body.md5);
  else {
    const planned = await completeFromParts(deps, upload, body);
    plan = planned.plan;
    observe.linesValidated?.(planned.lines);
  }

  const file: FileRecord = { ...fileRecordOf(deps, upload), ...(plan ? { plan } : {}) };
  await deps.files.put(file);
  if (!(await deps.uploads.finish(tenant, uploadId, 'completed', nowS(deps)))) {
    // Another request completed or cancelled it meanwhile; answer for what it is now.
    const now = await getUpload(deps, tenant, uploadId);
    throw new BadRequestError(`Upload ${uploadId} is already ${now.status}.`, null, `upload_${now.status}`);
  }
  await deps.blobs.deletePrefix(keys.uploadWork(tenant, uploadId));
  return toUploadObject({ ...upload, status: 'completed' }, nowS(deps), toFileObject(file));
}

/**
 * The largest stitched file validated on the way. Validation reads at about 25 MB/s in a
 * function and the stitch waits for it, so a larger file would bring the completion near API
 * Gateway's 29 s; such a file is validated at create instead, in segments.
 */
export const PLAN_WHILE_STITCHING_MAX_BYTES = 32 * 1024 * 1024;

async function completeFromParts(
  deps: UploadDeps,
  upload: UploadRecord,
  body: CompleteUploadBody,
): Promise<{ plan: string | undefined; lines: number }> {
  const parts = orderParts(upload, body.part_ids, await deps.uploads.listParts(upload.tenant, upload.id));
  if (upload.bytes > deps.limits.MAX_API_PARTS_TOTAL_BYTES) {
    throw new BadRequestError(
      `Parts added through the API can make at most ${deps.limits.MAX_API_PARTS_TOTAL_BYTES} bytes; use pre-signed part URLs (POST /v1/openbatch/uploads/${upload.id}/part_urls) for larger files.`,
      'bytes',
    );
  }
  const md5 = createHash('md5');
  const planner =
    upload.bytes <= PLAN_WHILE_STITCHING_MAX_BYTES ? new StreamingFilePlanner(deps.limits) : undefined;
  async function* stitched(): AsyncGenerator<Buffer> {
    for (const p of parts) {
      for await (const piece of await deps.blobs.stream(p.s3_key)) {
        const b = Buffer.from(piece);
        md5.update(b);
        await planner?.feed(b);
        yield b;
      }
    }
  }
  await deps.blobs.upload(upload.s3_key, stitched(), upload.mime_type);
  const digest = md5.digest('hex');
  if (body.md5 && body.md5.toLowerCase() !== digest) {
    // The upload stays pending: the client may complete again with the right parts or order.
    await deps.blobs.delete(upload.s3_key);
    throw new BadRequestError(`The md5 of the parts in this order is ${digest}, not ${body.md5}.`, 'md5');
  }
  return planner ? planner.done() : { plan: undefined, lines: 0 };
}

async function completePresigned(
  deps: UploadDeps,
  upload: UploadRecord,
  s3UploadId: string,
  md5?: string,
): Promise<void> {
  if (md5 && upload.bytes > deps.limits.MAX_MD5_CHECK_BYTES) {
    throw new BadRequestError(
      `A whole-file md5 is checked only up to ${deps.limits.MAX_MD5_CHECK_BYTES} bytes; send Content-MD5 with each pre-signed part instead.`,
      'md5',
    );
  }
  const parts = await deps.blobs.listMultipartParts(upload.s3_key, s3UploadId);
  checkS3Parts(upload, parts);
  await deps.blobs.completeMultipart(
    upload.s3_key,
    s3UploadId,
    [...parts].sort((a, b) => a.partNumber - b.partNumber),
  );
  if (!md5) return;
  const hash = createHash('md5');
  for await (const piece of await deps.blobs.stream(upload.s3_key)) hash.update(piece);
  const digest = hash.digest('hex');
  if (digest !== md5.toLowerCase()) {
    // S3 has consumed the parts: the upload cannot be completed again, so it ends cancelled.
    await deps.blobs.delete(upload.s3_key);
    await deps.uploads.finish(upload.tenant, upload.id, 'cancelled', nowS(deps));
    throw new BadRequestError(
      `The uploaded file's md5 is ${digest}, not ${md5}; the Upload is cancelled, start a new one.`,
      'md5',
    );
  }
}

function fileRecordOf(deps: UploadDeps, upload: UploadRecord): FileRecord {
  const created = nowS(deps);
  return {
    tenant: upload.tenant,
    id: upload.file_id,
    filename: upload.filename,
    purpose: upload.purpose,
    bytes: upload.bytes,
    created_at: created,
    expires_at: upload.file_expires_after
      ? created + upload.file_expires_after.seconds
      : created + deps.limits.FILE_RETENTION_DAYS * 86_400,
    s3_key: upload.s3_key,
  };
}

/** `POST /v1/uploads/{id}/cancel`: no parts may be added after; what was sent is removed. */
export async function cancelUpload(
  deps: UploadDeps,
  tenant: string,
  uploadId: string,
): Promise<UploadObject> {
  const upload = await getUpload(deps, tenant, uploadId);
  assertPending(upload, nowS(deps), 'cancel');
  if (!(await deps.uploads.finish(tenant, uploadId, 'cancelled', nowS(deps)))) {
    const now = await getUpload(deps, tenant, uploadId);
    throw new BadRequestError(
      `Cannot cancel an Upload with status '${now.status}'.`,
      null,
      `upload_${now.status}`,
    );
  }
  await discardWork(deps, upload);
  return toUploadObject({ ...upload, status: 'cancelled' }, nowS(deps));
}

/** Removes an ended upload's parts: its API part objects and any unfinished S3 multipart upload. */
async function discardWork(deps: Pick<Deps, 'blobs'>, upload: UploadRecord): Promise<void> {
  if (upload.s3_upload_id) await deps.blobs.abortMultipart(upload.s3_key, upload.s3_upload_id);
  await deps.blobs.deletePrefix(keys.uploadWork(upload.tenant, upload.id));
}

export interface PartUrl {
  part_number: number;
  url: string;
  expires_at: number;
}

/**
 * openbatch extension `POST /v1/openbatch/uploads/{id}/part_urls`: pre-signed S3 UploadPart URLs,
 * so the bytes go from the client straight to S3. Parts are numbered from 1 in file order; each
 * but the last must be at least 5 MiB (S3's rule). A URL may be asked for again to retry a part.
 */
export async function partUrls(
  deps: UploadDeps,
  tenant: string,
  uploadId: string,
  partNumbers: readonly number[],
): Promise<{ object: 'list'; data: PartUrl[] }> {
  let upload = await getUpload(deps, tenant, uploadId);
  const now = nowS(deps);
  assertPending(upload, now, 'add parts to');
  if (!upload.s3_upload_id) {
    if ((await deps.uploads.listParts(tenant, uploadId)).length > 0) {
      throw new BadRequestError(
        'This Upload already has parts added through the API; complete it that way or start a new Upload.',
        null,
        'upload_mode_mismatch',
      );
    }
    const created = await deps.blobs.createMultipart(upload.s3_key, upload.mime_type);
    if (!(await deps.uploads.claimMultipart(tenant, uploadId, created))) {
      await deps.blobs.abortMultipart(upload.s3_key, created); // another request won the race
    }
    upload = await getUpload(deps, tenant, uploadId);
    assertPending(upload, now, 'add parts to');
  }
  const s3UploadId = upload.s3_upload_id as string;
  // A URL never outlives the upload (nor an hour), and gives at least a minute to start.
  const ttl = Math.max(60, Math.min(3_600, upload.expires_at - now));
  const data = await Promise.all(
    partNumbers.map(async (n) => ({
      part_number: n,
      url: await deps.blobs.presignedPartUrl(upload.s3_key, s3UploadId, n, ttl),
      expires_at: now + ttl,
    })),
  );
  return { object: 'list', data };
}

/** openbatch extension `GET /v1/openbatch/uploads/{id}`: the upload and the parts it holds (to resume). */
export async function uploadStatus(deps: UploadDeps, tenant: string, uploadId: string) {
  const upload = await getUpload(deps, tenant, uploadId);
  const presigned = Boolean(upload.s3_upload_id);
  const pending = upload.status === 'pending';
  const parts = presigned
    ? pending
      ? (await deps.blobs.listMultipartParts(upload.s3_key, upload.s3_upload_id as string)).map((p) => ({
          part_number: p.partNumber,
          bytes: p.size,
        }))
      : []
    : (await deps.uploads.listParts(tenant, uploadId)).map((p) => ({ id: p.part_id, bytes: p.bytes }));
  return {
    ...toUploadObject(upload, nowS(deps)),
    openbatch: { mode: presigned ? 'presigned' : 'api_parts', parts },
  };
}

/** The sweep's part: ends pending uploads past their hour and discards their parts. */
export async function expireUploads(deps: Pick<Deps, 'uploads' | 'blobs' | 'clock'>): Promise<string[]> {
  const now = nowS(deps);
  const ended: string[] = [];
  for (const upload of await deps.uploads.listExpired(now)) {
    if (!(await deps.uploads.finish(upload.tenant, upload.id, 'expired', now))) continue;
    await discardWork(deps, upload);
    ended.push(upload.id);
  }
  return ended;
}
