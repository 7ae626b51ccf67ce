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
}
