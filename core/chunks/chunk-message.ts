import { z } from 'zod';

/** The SQS message for one chunk: a descriptor only, never request payloads. */
export const chunkMessageSchema = z.object({
  v: z.literal(1),
  tenant: z.string().min(1),
  batchId: z.string().min(1),
  chunk: z.number().int().min(0),
  /** S3 key of the input file. */
  key: z.string().min(1),
  byteStart: z.number().int().min(0),
  byteEnd: z.number().int().positive(),
  lineStart: z.number().int().positive(),
  lineEnd: z.number().int().positive(),
  attempt: z.number().int().min(1),
  /**
   * The chunks this chunk's completion sends on, in turn (core/chunks/dispatch.ts): each as
   * [chunk, byteStart, byteEnd, lineStart, lineEnd]. A batch keeps only a window of chunk
   * messages on its queue; absent, nothing follows this chunk.
   */
  chain: z
    .array(
      z.tuple([
        z.number().int().min(0),
        z.number().int().min(0),
        z.number().int(),
        z.number().int(),
        z.number().int(),
      ]),
    )
    .optional(),
});
export type ChunkMessage = z.infer<typeof chunkMessageSchema>;

export const parseChunkMessage = (body: string): ChunkMessage => chunkMessageSchema.parse(JSON.parse(body));

/** Messages on the scheduling and finalizing queues: which batch to act on. */
export const batchRefSchema = z.object({ tenant: z.string().min(1), batchId: z.string().min(1) });
export type BatchRef = z.infer<typeof batchRefSchema>;

export const parseBatchRef = (body: string): BatchRef => batchRefSchema.parse(JSON.parse(body));

/** Key of a batch's chunk records: the tenant is part of every key. */
export const batchKey = (ref: BatchRef): string => `${ref.tenant}#${ref.batchId}`;
