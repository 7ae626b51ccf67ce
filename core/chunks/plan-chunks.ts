import { hash } from 'node:crypto';
import type { Limits } from '../config.js';
import { isBlank, type SplitItem, splitLines } from '../lines/split-lines.js';
import { validateLine } from '../lines/validate-line.js';
import type { BatchError } from '../openai/schemas.js';

/** A run of consecutive input lines processed as one unit of work. */
export interface ChunkRange {
  chunk: number;
  /** Byte range [byteStart, byteEnd) of the input file. */
  byteStart: number;
  byteEnd: number;
  /** Line numbers [lineStart, lineEnd] (1-based, inclusive), blank lines included. */
  lineStart: number;
  lineEnd: number;
  requests: number;
}

export type PlanResult =
  | { ok: true; chunks: ChunkRange[]; total: number; model: string | undefined }
  | { ok: false; errors: BatchError[] };

export interface PlanRules {
  endpoint: string;
  limits: Pick<
    Limits,
    | 'MAX_REQUESTS_PER_BATCH'
    | 'MAX_LINE_BYTES'
    | 'CHUNK_MAX_LINES'
    | 'CHUNK_MAX_BYTES'
    | 'MAX_REPORTED_LINE_ERRORS'
    | 'MODELS'
  > &
    Partial<Pick<Limits, 'CHUNK_TAIL_MIN_LINES'>>;
}

/** Where a request line lies: what the tail re-cut needs to cut a chunk between two requests. */
interface LineSpans {
  starts: number[];
  ends: number[];
  numbers: number[];
}

/** Where a validation pass stands: enough to resume it in another invocation. */
export interface PlannerState {
  /** Byte offset and line number where the next segment starts. */
  byte: number;
  line: number;
  chunks: ChunkRange[];
  total: number;
  model: string | undefined;
  errors: BatchError[];
  /** md5 digests (16 bytes each) of the custom_ids seen: the uniqueness rule across segments. */
  ids: Buffer;
}

export const freshPlannerState = (): PlannerState => ({
  byte: 0,
  line: 1,
  chunks: [],
  total: 0,
  model: undefined,
  errors: [],
  ids: Buffer.alloc(0),
});

/**
 * Validates lines and cuts chunks bounded by request count and bytes, one line at a time, so a
 * caller can stop after any line and resume later from `state()`. Memory holds a 16-byte digest
 * per custom_id (about 60 MB for a million requests) and the chunk list, never the file.
 */
export class ChunkPlanner {
  private readonly seen = new Set<string>();
  private readonly chunks: ChunkRange[];
  private current: ChunkRange | undefined;
  private total: number;
  private model: string | undefined;
  private readonly errors: BatchError[];
  /** Set once the request limit is passed: nothing after it is read. */
  private stopped = false;
  /**
   * The request lines of the last two chunks opened by this planner (not of one it resumed),
   * by chunk number: the tail re-cut in `result()` splits those chunks between requests.
   */
  private readonly spans = new Map<number, LineSpans>();

  constructor(
    private readonly rules: PlanRules,
    from: PlannerState = freshPlannerState(),
  ) {
    this.chunks = from.chunks.map((c) => ({ ...c }));
    this.current = this.chunks.at(-1);
    this.total = from.total;
    this.model = from.model;
    this.errors = [...from.errors];
    for (let i = 0; i + 16 <= from.ids.length; i += 16) this.seen.add(from.ids.toString('latin1', i, i + 16));
  }

  get done(): boolean {
    return this.stopped;
  }

  private report(e: BatchError) {
    if (this.errors.length < this.rules.limits.MAX_REPORTED_LINE_ERRORS) this.errors.push(e);
  }

  add(item: SplitItem): void {
    const { limits } = this.rules;
    if (this.stopped) return;
    if ('tooLong' in item) {
      this.report({
        code: 'invalid_request',
        message: `Line is larger than the maximum of ${limits.MAX_LINE_BYTES} bytes.`,
        param: null,
        line: item.number,
      });
      return;
    }
    if (isBlank(item.bytes)) return;
    this.total += 1;
    if (this.total > limits.MAX_REQUESTS_PER_BATCH) {
      this.report({
        code: 'invalid_request',
        message: `The input file has more than the maximum of ${limits.MAX_REQUESTS_PER_BATCH} requests.`,
        param: null,
        line: item.number,
      });
      this.stopped = true;
      return;
    }
    const verdict = validateLine(item.bytes, item.number, {
      endpoint: this.rules.endpoint,
      models: limits.MODELS,
    });
    if (!verdict.ok) {
      this.report(verdict.error);
      return;
    }
    // One-shot md5 (crypto.hash): the same 16 bytes as a Hash object, without making one per line.
    const digest = hash('md5', verdict.customId, 'binary');
    if (this.seen.has(digest)) {
      this.report({
        code: 'invalid_request',
        message: `The custom_id '${verdict.customId}' is used more than once; each request needs a unique custom_id.`,
        param: 'custom_id',
        line: item.number,
      });
      return;
    }
    this.seen.add(digest);
    // One model per batch, as OpenAI requires: a file may not mix them (the first request's
    // model is the batch's; the model routes the batch to its pools).
    if (this.model !== undefined && verdict.model !== undefined && verdict.model !== this.model) {
      this.report({
        code: 'mismatched_model',
        message: `The model '${verdict.model}' differs from the batch's model '${this.model}' (the first request's): every request of a batch must use the same model.`,
        param: 'body.model',
        line: item.number,
      });
      return;
    }
    this.model ??= verdict.model;
    if (this.errors.length > 0) return; // keep validating, but stop planning work that will never run

    const current = this.current;
    if (
      !current ||
      current.requests >= limits.CHUNK_MAX_LINES ||
      item.end - current.byteStart > limits.CHUNK_MAX_BYTES
    ) {
      this.current = {
        chunk: this.chunks.length,
        byteStart: item.start,
        byteEnd: item.end,
        lineStart: item.number,
        lineEnd: item.number,
        requests: 1,
      };
      this.chunks.push(this.current);
      this.spans.delete(this.current.chunk - 2);
      this.spans.set(this.current.chunk, { starts: [item.start], ends: [item.end], numbers: [item.number] });
      return;
    }
    current.byteEnd = item.end;
    current.lineEnd = item.number;
    current.requests += 1;
    const spans = this.spans.get(current.chunk);
    if (spans) {
      spans.starts.push(item.start);
      spans.ends.push(item.end);
      spans.numbers.push(item.number);
    }
  }

  /** The state to resume from, with the next segment starting at `byte` / `line`. */
  state(byte: number, line: number): PlannerState {
    const ids = Buffer.allocUnsafe(this.seen.size * 16);
    let i = 0;
    for (const d of this.seen) {
      ids.write(d, i, 'latin1');
      i += 16;
    }
    return {
      byte,
      line,
      chunks: this.chunks.map((c) => ({ ...c })),
      total: this.total,
      model: this.model,
      errors: [...this.errors],
      ids,
    };
  }

  result(): PlanResult {
    if (this.errors.length > 0) return { ok: false, errors: [...this.errors] };
    if (this.total === 0) {
      return {
        ok: false,
        errors: [
          { code: 'empty_file', message: 'The input file contains no requests.', param: null, line: null },
        ],
      };
    }
    return {
      ok: true,
      chunks: recutTail(this.chunks, this.spans, this.rules.limits),
      total: this.total,
      model: this.model,
    };
  }
}

/**
 * The sizes the end of a batch is cut into, last piece first: CHUNK_TAIL_MIN_LINES twice, then
 * doubling while below CHUNK_MAX_LINES (250, 250, 500, 1,000 for the defaults); none where
 * CHUNK_MAX_LINES is below four times the smallest. A batch's last
 * requests then run as several small chunks that spread over the workers, instead of one full
 * chunk on one worker while the others have nothing left to do.
 */
export function tailSizes(
  limits: Pick<Limits, 'CHUNK_MAX_LINES'> & Partial<Pick<Limits, 'CHUNK_TAIL_MIN_LINES'>>,
): number[] {
  const min = limits.CHUNK_TAIL_MIN_LINES ?? 0;
  // Worth it only where a full chunk makes at least three pieces (min, min, 2 × min).
  if (min <= 0 || min * 4 > limits.CHUNK_MAX_LINES) return [];
  const sizes = [min];
  for (let size = min; size < limits.CHUNK_MAX_LINES; size *= 2) sizes.push(size);
  return sizes;
}

/**
 * Cuts the last chunks into `tailSizes`, from the end backwards. A piece never spans two
 * planned chunks (so it keeps within CHUNK_MAX_BYTES), never leaves a rest smaller than the
 * smallest size, and only chunks whose request lines this planner saw are cut. Chunks are
 * numbered again in order.
 */
function recutTail(
  chunks: readonly ChunkRange[],
  spans: ReadonlyMap<number, LineSpans>,
  limits: Pick<Limits, 'CHUNK_MAX_LINES'> & Partial<Pick<Limits, 'CHUNK_TAIL_MIN_LINES'>>,
): ChunkRange[] {
  const sizes = tailSizes(limits);
  const min = sizes[0] ?? 0;
  let t = 0;
  const tail: ChunkRange[] = [];
  let k = chunks.length - 1;
  for (; k >= 0 && t < sizes.length; k--) {
    const lines = spans.get(k);
    const chunk = chunks[k] as ChunkRange;
    if (!lines || lines.starts.length !== chunk.requests) break;
    const piece = (from: number, to: number): ChunkRange => ({
      chunk: 0,
      byteStart: lines.starts[from] as number,
      byteEnd: lines.ends[to - 1] as number,
      lineStart: lines.numbers[from] as number,
      lineEnd: lines.numbers[to - 1] as number,
      requests: to - from,
    });
    let end = chunk.requests;
    while (t < sizes.length && end > 0) {
      const rest = end - (sizes[t] as number);
      if (rest < 0 || (rest > 0 && rest < min)) break;
      tail.unshift(piece(rest, end));
      end = rest;
      t += 1;
    }
    if (end > 0) {
      // The front of the chunk (no smaller than its slot, or all that is left) is a piece too.
      tail.unshift(end === chunk.requests ? { ...chunk } : piece(0, end));
      t += 1;
    }
  }
  return [...chunks.slice(0, k + 1).map((c) => ({ ...c })), ...tail].map((c, i) => ({ ...c, chunk: i }));
}

/** Reads a whole input file once, as a stream, validating every line and cutting chunks. */
export async function planChunks(source: AsyncIterable<Uint8Array>, rules: PlanRules): Promise<PlanResult> {
  const planner = new ChunkPlanner(rules);
  for await (const item of splitLines(source, { maxLineBytes: rules.limits.MAX_LINE_BYTES })) {
    planner.add(item);
    if (planner.done) break;
  }
  return planner.result();
}
