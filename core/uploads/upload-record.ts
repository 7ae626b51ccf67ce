import { BadRequestError } from '../errors.js';
import type { ExpiresAfter, FileObject, UploadObject, UploadPartObject } from '../openai/schemas.js';

/** OpenAI's upload lifetime: an upload not completed within an hour expires. */
export const UPLOAD_LIFETIME_S = 3_600;

/** An upload as stored in the uploads table. Timestamps are unix seconds. */
export interface UploadRecord {
  tenant: string;
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  mime_type: string;
  created_at: number;
  expires_at: number;
  /** `expired` once the sweep ended it; until then a pending upload past its hour reads as expired. */
  status: 'pending' | 'completed' | 'cancelled' | 'expired';
  /** The File the upload becomes, and the S3 key its bytes end at: fixed at create. */
  file_id: string;
  s3_key: string;
  /** Set once pre-signed part URLs were handed out: the S3 multipart upload they belong to. */
  s3_upload_id?: string;
  file_expires_after?: ExpiresAfter;
  completed_at?: number;
  /** Present only while pending: the key of the sparse `pending-by-expiry` index the sweep reads. */
  active?: 'yes';
}

/** A part added through the API (`POST /v1/uploads/{id}/parts`), stored as its own object. */
export interface UploadPartRecord {
  tenant: string;
  /** `<upload id>#<part id>`: parts sort under their upload in the same table. */
  id: string;
  upload_id: string;
  part_id: string;
  bytes: number;
  s3_key: string;
  created_at: number;
}

/** The status a client sees: a pending upload past its hour is expired, whether or not swept yet. */
export function effectiveStatus(r: UploadRecord, nowS: number): UploadObject['status'] {
  return r.status === 'pending' && nowS >= r.expires_at ? 'expired' : r.status;
}

export const toUploadObject = (
  r: UploadRecord,
  nowS: number,
  file: FileObject | null = null,
): UploadObject => ({
  id: r.id,
  object: 'upload',
  bytes: r.bytes,
  created_at: r.created_at,
  filename: r.filename,
  purpose: r.purpose,
  status: effectiveStatus(r, nowS),
  expires_at: r.expires_at,
  file,
});

export const toUploadPartObject = (p: UploadPartRecord): UploadPartObject => ({
  id: p.part_id,
  object: 'upload.part',
  created_at: p.created_at,
  upload_id: p.upload_id,
});

/** Refuses any change to an upload that is no longer pending, in OpenAI's words. */
export function assertPending(r: UploadRecord, nowS: number, action: string): void {
  const status = effectiveStatus(r, nowS);
  if (status !== 'pending')
    throw new BadRequestError(
      `Cannot ${action} an Upload with status '${status}'.`,
      null,
      `upload_${status}`,
    );
}

/**
 * The parts a completion names, in its order: each must belong to the upload, none twice, and
 * together they must make exactly the bytes the upload declared.
 */
export function orderParts(
  upload: UploadRecord,
  partIds: readonly string[],
  parts: readonly UploadPartRecord[],
): UploadPartRecord[] {
  if (partIds.length === 0) throw new BadRequestError('part_ids must name at least one part.', 'part_ids');
  const byId = new Map(parts.map((p) => [p.part_id, p]));
  const seen = new Set<string>();
  const ordered = partIds.map((id, i) => {
    const part = byId.get(id);
    if (!part) throw new BadRequestError(`Unknown part '${id}' for Upload ${upload.id}.`, `part_ids[${i}]`);
    if (seen.has(id)) throw new BadRequestError(`Part '${id}' is listed twice.`, `part_ids[${i}]`);
    seen.add(id);
    return part;
  });
  assertBytes(
    upload,
    ordered.reduce((n, p) => n + p.bytes, 0),
  );
  return ordered;
}

/**
 * Pre-signed parts in S3: numbered 1..N with no gap (a gap is a part that never arrived), and
 * exactly the declared bytes together.
 */
export function checkS3Parts(
  upload: UploadRecord,
  parts: readonly { partNumber: number; size: number }[],
): void {
  if (parts.length === 0) throw new BadRequestError('No parts were uploaded for this Upload.', 'part_ids');
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  sorted.forEach((p, i) => {
    if (p.partNumber !== i + 1)
      throw new BadRequestError(
        `Part ${i + 1} is missing: parts must be numbered 1 to ${sorted.length} without gaps.`,
        'part_ids',
      );
  });
  assertBytes(
    upload,
    sorted.reduce((n, p) => n + p.size, 0),
  );
}

function assertBytes(upload: UploadRecord, got: number): void {
  if (got !== upload.bytes)
    throw new BadRequestError(
      `The parts add up to ${got} bytes, but the Upload was created with bytes=${upload.bytes}.`,
      'bytes',
    );
}
