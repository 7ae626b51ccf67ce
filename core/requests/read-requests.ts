import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import type { BatchRecord } from '../batches/batch-record.js';
import { isTerminal } from '../batches/lifecycle.js';
import type { ChunkRecord } from '../chunks/chunk-record.js';
import { isBlank, splitLines } from '../lines/split-lines.js';
import type { BatchRequestView, RequestLine, ResultLine } from '../openai/schemas.js';
import { type ChunkResolution, chunkResolution, requestView } from './request-status.js';
import { type FileSpan, finalFileSpans } from './result-spans.js';

/**
 * Reads the requests of a batch chunk by chunk, without a record per request: each chunk's
 * input lines with one ranged GET of the input file, and what the chunk's state needs besides
 * (its checkpoint while it runs; its output and error lines once done, from its parts while the
 * batch runs and from the final files once it ended, each one GET).
 */

type ReadDeps = Pick<Deps, 'blobs'>;

/** One request line with its row and, when it has one, its result line. */
export interface ResolvedLine {
  readonly chunk: ChunkRecord;
  readonly resolution: ChunkResolution;
  readonly line: number;
  /** The input line's bytes, without its terminator. */
  readonly bytes: Buffer;
  readonly request: RequestLine;
  readonly view: BatchRequestView;
  readonly result: ResultLine | undefined;
}

/** An object's lines to read: a key and the span of the chunk's lines in it. */
interface Source {
  readonly key: string;
  readonly span: FileSpan;
}

/** Where a batch's result lines are: the chunk parts while it runs, its final files once it ended. */
export class ResultSources {
  private readonly spans;

  constructor(
    private readonly batch: BatchRecord,
    chunks: readonly ChunkRecord[],
  ) {
    this.spans = isTerminal(batch.status) ? finalFileSpans(chunks, batch.status === 'expired') : undefined;
  }

  /** Whether the results come from the final files (the parts are deleted at finalization). */
  get final(): boolean {
    return this.spans !== undefined;
  }

  of(chunk: ChunkRecord): { output: Source | undefined; error: Source | undefined } {
    if (!this.spans) {
      const part = (key: string | undefined, lines: number): Source | undefined =>
        key && lines > 0 ? { key, span: { start: 0, end: undefined, skipLines: 0, lines } } : undefined;
      return {
        output: part(chunk.output_key, chunk.completed ?? 0),
        error: part(chunk.error_key, chunk.failed ?? 0),
      };
    }
    const spans = this.spans.done.get(chunk.chunk);
    const file = (id: string | undefined, span: FileSpan | undefined): Source | undefined =>
      id && span ? { key: keys.file(this.batch.tenant, id), span } : undefined;
    return {
      output: file(this.batch.output_file_id, spans?.output),
      error: file(this.batch.error_file_id, spans?.error),
    };
  }

  /** The `batch_expired` lines of an unfinished chunk of an expired batch. */
  expiredOf(chunk: ChunkRecord): Source | undefined {
    const span = this.spans?.expired.get(chunk.chunk);
    return span && this.batch.error_file_id
      ? { key: keys.file(this.batch.tenant, this.batch.error_file_id), span }
      : undefined;
  }
}

/** A line iterator that can look at its next line before taking it. */
class Peekable<T> {
  private head: IteratorResult<T> | undefined;
  constructor(private readonly it: AsyncIterator<T>) {}

  async peek(): Promise<T | undefined> {
    this.head ??= await this.it.next();
    return this.head.done ? undefined : this.head.value;
  }

  async take(): Promise<T | undefined> {
    const value = await this.peek();
    this.head = undefined;
    return value;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

const parse = <T>(bytes: Buffer): T => JSON.parse(bytes.toString('utf8')) as T;

/**
 * The non-blank lines of an object's byte range, numbered from `firstLine`. `fileSize` closes
 * a span that runs to the end of the file from a later start.
 */
async function* linesOf(
  deps: ReadDeps,
  source: Source,
  fileSize?: number,
): AsyncGenerator<{ number: number; bytes: Buffer }> {
  const { start, end } = source.span;
  const range =
    end !== undefined
      ? { start, end }
      : start > 0
        ? { start, end: fileSize ?? Number.MAX_SAFE_INTEGER }
        : undefined;
  if (range && range.end <= range.start) return;
  let skip = source.span.skipLines;
  let left = source.span.lines;
  const body = await deps.blobs.stream(source.key, range);
  for await (const item of splitLines(body, { startOffset: start })) {
    if ('tooLong' in item || isBlank(item.bytes)) continue;
    if (skip > 0) {
      skip -= 1;
      continue;
    }
    if (left-- <= 0) return;
    yield item;
  }
}

const resultsOf = async function* (deps: ReadDeps, source: Source, fileSize?: number) {
  for await (const l of linesOf(deps, source, fileSize)) yield parse<ResultLine>(l.bytes);
};

/**
 * A checkpoint's finished lines, by line number, and those answered by reuse
 * (gpu-worker/src/run-chunk.ts writes them).
 */
async function checkpointOf(
  deps: ReadDeps,
  key: string,
): Promise<{ results: Map<number, ResultLine>; reused: Set<number> }> {
  const text = (await deps.blobs.read(key)).toString('utf8');
  const results = new Map<number, ResultLine>();
  const reused = new Set<number>();
  for (const l of text.split('\n')) {
    if (l.length === 0) continue;
    const f = JSON.parse(l) as { line: number; result: ResultLine; reused?: boolean };
    results.set(f.line, f.result);
    if (f.reused) reused.add(f.line);
  }
  return { results, reused };
}

export interface ReadChunkOptions {
  /** Read the output lines too (the HTTP status of succeeded requests); else only the error lines. */
  readonly outputs: boolean;
}

/**
 * Every request of one chunk, in line order. A done chunk's output and error lines are in line
 * order too, so each input line's result is the next line of one of the two (custom_ids are
 * unique in a batch). Stop early by returning from the loop: every open GET is closed.
 */
export async function* readChunk(
  deps: ReadDeps,
  batch: BatchRecord,
  chunk: ChunkRecord,
  sources: ResultSources,
  opts: ReadChunkOptions,
): AsyncGenerator<ResolvedLine> {
  const resolution = chunkResolution(batch, chunk);
  const checkpoint =
    resolution.kind === 'running' && chunk.checkpoint_key
      ? await checkpointOf(deps, chunk.checkpoint_key)
      : undefined;
  const from = resolution.kind === 'done' ? sources.of(chunk) : undefined;
  const outputs =
    from?.output && opts.outputs
      ? new Peekable(resultsOf(deps, from.output)[Symbol.asyncIterator]())
      : undefined;
  const errors = from?.error ? new Peekable(resultsOf(deps, from.error)[Symbol.asyncIterator]()) : undefined;
  const body = await deps.blobs.stream(batch.input_key, { start: chunk.byteStart, end: chunk.byteEnd });
  try {
    for await (const item of splitLines(body, {
      startOffset: chunk.byteStart,
      firstLineNumber: chunk.lineStart,
    })) {
      if ('tooLong' in item || isBlank(item.bytes)) continue;
      const request = parse<RequestLine>(item.bytes);
      let result: ResultLine | undefined;
      let finished: 'succeeded' | undefined;
      if (resolution.kind === 'done') {
        if ((await errors?.peek())?.custom_id === request.custom_id) result = await errors?.take();
        else if (outputs) {
          result = await outputs.take();
          if (result?.custom_id !== request.custom_id)
            throw new Error(
              `Chunk ${chunk.chunk} of ${batch.id}: line ${item.number} has no result line in order (found ${result?.custom_id})`,
            );
        } else finished = 'succeeded';
      } else result = checkpoint?.results.get(item.number);
      yield {
        chunk,
        resolution,
        line: item.number,
        bytes: item.bytes,
        request,
        view: requestView({
          chunk,
          resolution,
          line: item.number,
          customId: request.custom_id,
          result,
          finished,
          reused: checkpoint?.reused.has(item.number),
        }),
        result: resolution.kind === 'uniform' ? undefined : result,
      };
    }
  } finally {
    await Promise.all([outputs?.close(), errors?.close()]);
  }
}

/**
 * The line a custom_id is on, or undefined: one streamed GET of the input over the chunks'
 * ranges. Only lines that could hold the id are parsed: those holding its canonical JSON text,
 * or any escape (`\u`, `\/`) that could spell it another way.
 */
export async function findLine(
  deps: ReadDeps,
  batch: BatchRecord,
  chunks: readonly ChunkRecord[],
  customId: string,
): Promise<{ chunk: ChunkRecord; line: number } | undefined> {
  const first = chunks[0];
  const last = chunks.at(-1);
  if (!first || !last) return undefined;
  const needle = Buffer.from(JSON.stringify(customId));
  const body = await deps.blobs.stream(batch.input_key, { start: first.byteStart, end: last.byteEnd });
  for await (const item of splitLines(body, {
    startOffset: first.byteStart,
    firstLineNumber: first.lineStart,
  })) {
    if ('tooLong' in item || isBlank(item.bytes)) continue;
    if (!item.bytes.includes(needle) && !item.bytes.includes('\\u') && !item.bytes.includes('\\/')) continue;
    if (parse<RequestLine>(item.bytes).custom_id !== customId) continue;
    const chunk = chunks.find((c) => c.lineStart <= item.number && item.number <= c.lineEnd);
    return chunk ? { chunk, line: item.number } : undefined;
  }
  return undefined;
}

/** The `batch_expired` line the finalizer wrote for the `index`-th request of an unfinished chunk. */
export async function expiredLineOf(
  deps: ReadDeps,
  sources: ResultSources,
  chunk: ChunkRecord,
  index: number,
  errorFileBytes: number | undefined,
): Promise<ResultLine | undefined> {
  const source = sources.expiredOf(chunk);
  if (!source) return undefined;
  const one: Source = {
    key: source.key,
    span: { ...source.span, skipLines: source.span.skipLines + index, lines: 1 },
  };
  for await (const r of resultsOf(deps, one, errorFileBytes)) return r;
  return undefined;
}
