import { encodeExtended } from 'content-disposition';

/**
 * `Content-Disposition: attachment` naming a download after its file (RFC 6266): always a quoted
 * `filename` (non-ASCII characters replaced, quotes escaped) that every client reads, plus the
 * exact name UTF-8 encoded in `filename*` when it is not plain ASCII.
 */
export function attachment(filename: string): string {
  const ascii = /^[\x20-\x7e]*$/.test(filename);
  const fallback = filename.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&');
  return `attachment; filename="${fallback}"${ascii ? '' : `; filename*=${encodeExtended(filename)}`}`;
}
