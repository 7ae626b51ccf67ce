import type { Limits } from '../config.js';
import { isBlank, splitLines } from '../lines/split-lines.js';
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

/**
 * Reads an input file once, as a stream, validating every line and cutting chunks bounded by
 * request count and bytes. Memory holds the set of custom_ids (needed for the uniqueness rule)
 * and the chunk list, never the file.
 */
export async function planChunks(source: AsyncIterable<Uint8Array>, rules: PlanRules): Promise<PlanResult> {
  const { limits } = rules;
  const errors: BatchError[] = [];
  const seen = new Set<string>();
  const chunks: ChunkRange[] = [];
  let current: ChunkRange | undefined;
  let total = 0;
  let model: string | undefined;
  const report = (e: BatchError) => {
    if (errors.length < limits.MAX_REPORTED_LINE_ERRORS) errors.push(e);
  };

  for await (const item of splitLines(source, { maxLineBytes: limits.MAX_LINE_BYTES })) {
    if ('tooLong' in item) {
      report({
        code: 'invalid_request',
        message: `Line is larger than the maximum of ${limits.MAX_LINE_BYTES} bytes.`,
        param: null,
        line: item.number,
      });
      continue;
    }
    if (isBlank(item.bytes)) continue;
    total += 1;
    if (total > limits.MAX_REQUESTS_PER_BATCH) {
      report({
        code: 'invalid_request',
        message: `The input file has more than the maximum of ${limits.MAX_REQUESTS_PER_BATCH} requests.`,
        param: null,
        line: item.number,
      });
      break;
    }
    const verdict = validateLine(item.bytes, item.number, {
      endpoint: rules.endpoint,
      models: limits.MODELS,
    });
    if (!verdict.ok) {
      report(verdict.error);
      continue;
    }
    if (seen.has(verdict.customId)) {
      report({
        code: 'invalid_request',
        message: `The custom_id '${verdict.customId}' is used more than once; each request needs a unique custom_id.`,
        param: 'custom_id',
        line: item.number,
      });
      continue;
    }
    seen.add(verdict.customId);
    model ??= verdict.model;
    if (errors.length > 0) continue; // keep validating, but stop planning work that will never run

    if (
      !current ||
      current.requests >= limits.CHUNK_MAX_LINES ||
      item.end - current.byteStart > limits.CHUNK_MAX_BYTES
    ) {
      current = {
        chunk: chunks.length,
        byteStart: item.start,
        byteEnd: item.end,
        lineStart: item.number,
        lineEnd: item.number,
        requests: 0,
      };
      chunks.push(current);
    }
    current.byteEnd = item.end;
    current.lineEnd = item.number;
    current.requests += 1;
  }

  if (errors.length > 0) return { ok: false, errors };
  if (total === 0) {
    return {
      ok: false,
      errors: [
        { code: 'empty_file', message: 'The input file contains no requests.', param: null, line: null },
      ],
    };
  }
  return { ok: true, chunks, total, model };
}
