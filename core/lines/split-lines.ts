/**
 * Splits a byte stream into lines, keeping each line's byte offsets. JSONL libraries yield
 * parsed values or strings, but chunks are addressed by byte range (a worker reads its lines
 * with a ranged GET), so offsets must be exact, including for multi-byte UTF-8 and CRLF.
 *
 * A UTF-8 byte order mark at the very start of the file (offset 0) is not part of line 1's
 * content: it is left out of the line's `bytes` but kept inside its byte range, so offsets stay
 * exact and every reader that starts at offset 0 (scheduler, worker, finalizer) strips it alike.
 */
export interface Line {
  /** 1-based line number in the file. */
  number: number;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line's terminator (or the end of the data). */
  end: number;
  /** The line's bytes without its terminator. */
  bytes: Buffer;
}

export interface SplitOptions {
  /** Offset of the stream's first byte within the file (for ranged reads). */
  startOffset?: number;
  firstLineNumber?: number;
  /** A line longer than this is reported as `tooLong` without buffering all of it. */
  maxLineBytes?: number;
}

export type SplitItem = Line | { number: number; start: number; end: number; tooLong: true };

/** The lines of `source`, one at a time (see `splitLineBatches`). */
export async function* splitLines(
  source: AsyncIterable<Uint8Array>,
  opts: SplitOptions = {},
): AsyncGenerator<SplitItem> {
  for await (const items of splitLineBatches(source, opts)) yield* items;
}

/**
 * The lines of `source`, as the lines each piece of the stream completes: one async step per
 * piece instead of per line, for a caller that goes through every line of a large file (the
 * scheduler checks every line before a batch's first chunk runs).
 */
export async function* splitLineBatches(
  source: AsyncIterable<Uint8Array>,
  opts: SplitOptions = {},
): AsyncGenerator<SplitItem[]> {
  const maxLineBytes = opts.maxLineBytes ?? Number.POSITIVE_INFINITY;
  let offset = opts.startOffset ?? 0;
  let lineNumber = opts.firstLineNumber ?? 1;
  let lineStart = offset;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overflow = false;

  const emit = (end: number): SplitItem => {
    // A line that arrived in one piece is a view of the source buffer, not a copy.
    const whole = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    const bytes = overflow ? undefined : stripCr(lineStart === 0 ? stripBom(whole) : whole);
    const item: SplitItem =
      bytes === undefined || bytes.length > maxLineBytes
        ? { number: lineNumber, start: lineStart, end, tooLong: true }
        : { number: lineNumber, start: lineStart, end, bytes };
    lineNumber += 1;
    lineStart = end;
    pending = [];
    pendingBytes = 0;
    overflow = false;
    return item;
  };

  for await (const chunk of source) {
    const items: SplitItem[] = [];
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let from = 0;
    while (from < buf.length) {
      const nl = buf.indexOf(0x0a, from);
      const to = nl === -1 ? buf.length : nl;
      if (!overflow) {
        // One byte of slack for the CR of a CRLF terminator, which is not part of the line (and
        // three for a byte order mark on the file's first line).
        const slack = lineStart === 0 ? 1 + UTF8_BOM.length : 1;
        if (pendingBytes + (to - from) > maxLineBytes + slack) {
          overflow = true;
          pending = [];
          pendingBytes = 0;
        } else if (to > from) {
          pending.push(buf.subarray(from, to));
          pendingBytes += to - from;
        }
      }
      if (nl === -1) {
        offset += buf.length - from;
        break;
      }
      offset += nl + 1 - from;
      from = nl + 1;
      items.push(emit(offset));
    }
    if (items.length > 0) yield items;
  }
  if (pendingBytes > 0 || overflow) yield [emit(offset)];
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** True when `b` starts with a UTF-8 byte order mark. */
const hasUtf8Bom = (b: Uint8Array): boolean =>
  b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

function stripBom(b: Buffer): Buffer {
  return hasUtf8Bom(b) ? b.subarray(UTF8_BOM.length) : b;
}

function stripCr(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
}

/** True for a line of only whitespace; stops at the first other byte, which in JSONL is the first. */
export function isBlank(b: Buffer): boolean {
  for (const byte of b) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d && byte !== 0x0b && byte !== 0x0c) return false;
  }
  return true;
}
