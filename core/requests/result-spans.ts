import type { ChunkRecord } from '../chunks/chunk-record.js';

/**
 * Where a chunk's result lines lie in its batch's final output and error files, pure.
 *
 * The finalizer stitches the done chunks' output parts, in chunk order, into the output file,
 * and their error parts, then a `batch_expired` line per request of each unfinished chunk (an
 * expired batch), into the error file. With the part sizes the worker records on each chunk
 * (`output_bytes`, `error_bytes`), a chunk's lines are one byte range of each file. A chunk
 * completed before sizes were recorded is found by counting lines from the file's start instead.
 */
export interface FileSpan {
  /** Byte range [start, end) to read; `end` undefined: read from `start` to the end of the file. */
  readonly start: number;
  readonly end: number | undefined;
  /** Lines to skip from `start` before the chunk's first line. */
  readonly skipLines: number;
  /** The chunk's lines in this file. */
  readonly lines: number;
}

export interface ChunkSpans {
  readonly output: FileSpan | undefined;
  readonly error: FileSpan | undefined;
}

export interface FinalFileSpans {
  /** Per done chunk, by chunk number. */
  readonly done: ReadonlyMap<number, ChunkSpans>;
  /** The `batch_expired` lines of an unfinished chunk, by chunk number (expired batches only). */
  readonly expired: ReadonlyMap<number, FileSpan>;
}

class Cursor {
  /** Bytes before the next part, while every part so far had a known size. */
  private byte: number | undefined = 0;
  private lines = 0;

  /** The span of a part of `lines` lines and `bytes` bytes (undefined: not recorded), then moves past it. */
  take(lines: number, bytes: number | undefined): FileSpan | undefined {
    const known = lines === 0 ? 0 : bytes;
    const span: FileSpan | undefined =
      lines === 0
        ? undefined
        : this.byte !== undefined && known !== undefined
          ? { start: this.byte, end: this.byte + known, skipLines: 0, lines }
          : { start: 0, end: undefined, skipLines: this.lines, lines };
    this.byte = this.byte !== undefined && known !== undefined ? this.byte + known : undefined;
    this.lines += lines;
    return span;
  }

  /** The rest of the file from here, for lines of unknown size (the `batch_expired` section). */
  rest(lines: number): FileSpan {
    const span: FileSpan =
      this.byte !== undefined
        ? { start: this.byte, end: undefined, skipLines: 0, lines }
        : { start: 0, end: undefined, skipLines: this.lines, lines };
    this.lines += lines;
    return span;
  }
}

/**
 * The spans of every chunk in the final files. `expiredTail`: whether the error file ends with
 * the unfinished chunks' `batch_expired` lines (a batch that expired).
 */
export function finalFileSpans(chunks: readonly ChunkRecord[], expiredTail: boolean): FinalFileSpans {
  const sorted = [...chunks].sort((a, b) => a.chunk - b.chunk);
  const output = new Cursor();
  const error = new Cursor();
  const done = new Map<number, ChunkSpans>();
  for (const c of sorted) {
    if (c.status !== 'done') continue;
    done.set(c.chunk, {
      output: output.take(c.completed ?? 0, c.output_bytes),
      error: error.take(c.failed ?? 0, c.error_bytes),
    });
  }
  const expired = new Map<number, FileSpan>();
  if (expiredTail) {
    // Expired lines are not of a known size: each unfinished chunk's span starts at the tail
    // and skips the expired lines of the unfinished chunks before it.
    const tail = error.rest(0);
    let before = 0;
    for (const c of sorted) {
      if (c.status === 'done') continue;
      expired.set(c.chunk, { ...tail, skipLines: tail.skipLines + before, lines: c.requests });
      before += c.requests;
    }
  }
  return { done, expired };
}
