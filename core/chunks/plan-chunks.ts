import { createHash } from 'node:crypto';
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
  >;
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
    const digest = createHash('md5').update(verdict.customId).digest('binary');
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
      return;
    }
    current.byteEnd = item.end;
    current.lineEnd = item.number;
    current.requests += 1;
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
    return { ok: true, chunks: this.chunks.map((c) => ({ ...c })), total: this.total, model: this.model };
  }
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
