import type { TokenUsage } from '../results/usage.js';
import type { ChunkRange } from './plan-chunks.js';

export type ChunkStatus = 'pending' | 'done';

/** A chunk as stored in the chunks table: the source of truth for a batch's progress. */
export interface ChunkRecord extends ChunkRange {
  batch_key: string;
  status: ChunkStatus;
  /** Set when done: the winning attempt's result parts and counts. */
  completed?: number;
  failed?: number;
  output_key?: string;
  error_key?: string;
  /**
   * Sizes of the winning parts, so a reader can find the chunk's lines in the batch's final
   * output and error files (the parts stitched in chunk order) with one ranged GET.
   */
  output_bytes?: number;
  error_bytes?: number;
  /** Tokens of the winning attempt's lines (the engine's usage), set when done. */
  usage_input?: number;
  usage_cached?: number;
  usage_output?: number;
  usage_reasoning?: number;
  /** Lines answered by reuse (deduplication), set when done: their count and a bitmap from lineStart (base64). */
  reused?: number;
  reused_lines?: string;
  /** Results of lines finished before an interruption, skipped by the next attempt. */
  checkpoint_key?: string;
  checkpoint_lines?: number;
  interruptions?: number;
  pool?: 'spot' | 'dedicated';
  escalated?: boolean;
  ttl?: number;
}

export interface ChunkOutcome {
  completed: number;
  failed: number;
  outputKey: string;
  errorKey: string | undefined;
  pool: 'spot' | 'dedicated';
  /** Bytes of the output and error parts (absent from workers older than the per-request view). */
  outputBytes?: number;
  errorBytes?: number;
  /** Tokens of the chunk's lines, added to the batch's usage in the same write. */
  usage?: TokenUsage;
  /** Lines answered by reuse: counted on the chunk and added to the batch's `reused` in the same write. */
  reused?: { count: number; bitmap: string };
  /** When it completed (unix seconds): the batch's `last_chunk_at`, by which the SLA monitor sees a stall. */
  at?: number;
}

/**
 * Whether every chunk of a batch is done, judged from the chunk records (the source of truth),
 * never from the batch's counters. A batch without a chunk count has not been fanned out yet.
 */
export const allChunksDone = (batch: { chunk_count?: number }, chunks: readonly ChunkRecord[]): boolean =>
  batch.chunk_count !== undefined &&
  chunks.length === batch.chunk_count &&
  chunks.every((c) => c.status === 'done');
