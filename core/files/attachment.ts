import contentDisposition from 'content-disposition';

/**
 * `Content-Disposition: attachment` naming a download after its file (RFC 6266): a quoted ASCII
 * `filename` every client reads (other characters become `?`), plus the exact name UTF-8
 * encoded in `filename*` when it is not plain ASCII.
 */
export const attachment = (filename: string): string =>
  contentDisposition(filename, { fallback: filename.replace(/[^\x20-\x7e]/g, '?') });
