import { randomUUID } from 'node:crypto';
import { monotonicFactory } from 'ulidx';

/**
 * Ids are time-ordered (ULID) so that DynamoDB range queries list files and batches newest
 * first without a second index. The source is injectable so tests get predictable ids.
 */
export interface IdSource {
  fileId(): string;
  batchId(): string;
  uploadId(): string;
  /** `part_...`: a part added to an upload; time-ordered, so parts list in arrival order. */
  partId(): string;
  /** `batch_req_...`: the per-line id in output files. */
  requestLineId(): string;
  /** `req_...`: the request id recorded in a line's `response`. */
  requestId(): string;
}

export function createIdSource(now: () => number = Date.now): IdSource {
  const ulid = monotonicFactory();
  const timeOrdered = () => ulid(now()).toLowerCase();
  // randomUUID draws from a cached entropy pool: far cheaper per id than randomBytes, which matters
  // at two ids per request.
  const random = () => randomUUID().replaceAll('-', '');
  return {
    fileId: () => `file-${timeOrdered()}`,
    batchId: () => `batch_${timeOrdered()}`,
    uploadId: () => `upload_${timeOrdered()}`,
    partId: () => `part_${timeOrdered()}`,
    requestLineId: () => `batch_req_${random()}`,
    requestId: () => `req_${random()}`,
  };
}

/** Deterministic ids for tests: a counter per kind. */
export function createSequentialIdSource(): IdSource {
  let n = 0;
  const next = (prefix: string) => `${prefix}${String(++n).padStart(6, '0')}`;
  return {
    fileId: () => next('file-'),
    batchId: () => next('batch_'),
    uploadId: () => next('upload_'),
    partId: () => next('part_'),
    requestLineId: () => next('batch_req_'),
    requestId: () => next('req_'),
  };
}
