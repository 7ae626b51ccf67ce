import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import {
  batchKey,
  type ChunkMessage,
  chunkMessageSchema,
  parseBatchRef,
  parseChunkMessage,
} from '../../../../core/chunks/chunk-message.js';

const valid: ChunkMessage = {
  v: 1,
  tenant: 'acme',
  batchId: 'batch_01',
  chunk: 0,
  key: 'acme/files/file-1.jsonl',
  byteStart: 0,
  byteEnd: 1234,
  lineStart: 1,
  lineEnd: 20,
  attempt: 1,
};

describe('parseChunkMessage', () => {
  it('parses a valid message', () => {
    expect(parseChunkMessage(JSON.stringify(valid))).toEqual(valid);
  });

  it('drops unknown fields instead of passing them on', () => {
    expect(parseChunkMessage(JSON.stringify({ ...valid, payload: 'x' }))).not.toHaveProperty('payload');
  });

  it('rejects a body that is not JSON', () => {
    expect(() => parseChunkMessage('not json')).toThrow(SyntaxError);
  });

  it.each<[string, Partial<Record<keyof ChunkMessage, unknown>>]>([
    ['an unknown version', { v: 2 }],
    ['an empty tenant', { tenant: '' }],
    ['an empty batch id', { batchId: '' }],
    ['a negative chunk number', { chunk: -1 }],
    ['a fractional chunk number', { chunk: 1.5 }],
    ['an empty key', { key: '' }],
    ['a negative byteStart', { byteStart: -1 }],
    ['a zero byteEnd', { byteEnd: 0 }],
    ['a zero lineStart', { lineStart: 0 }],
    ['a zero lineEnd', { lineEnd: 0 }],
    ['attempt 0', { attempt: 0 }],
    ['a numeric string where a number is due', { byteStart: '0' }],
  ])('rejects %s', (_name, change) => {
    expect(() => parseChunkMessage(JSON.stringify({ ...valid, ...change }))).toThrow(ZodError);
  });

  it.each(Object.keys(valid))('rejects a message without %s', (field) => {
    const message: Record<string, unknown> = { ...valid };
    delete message[field];
    expect(chunkMessageSchema.safeParse(message).success).toBe(false);
  });
});

describe('parseBatchRef', () => {
  it('parses tenant and batch id', () => {
    expect(parseBatchRef('{"tenant":"t","batchId":"b"}')).toEqual({ tenant: 't', batchId: 'b' });
  });

  it.each(['{"tenant":"t"}', '{"batchId":"b"}', '{"tenant":"","batchId":"b"}', '{"tenant":"t","batchId":7}'])(
    'rejects %s',
    (body) => {
      expect(() => parseBatchRef(body)).toThrow(ZodError);
    },
  );
});

describe('batchKey', () => {
  it('puts the tenant in the key, so two tenants never share one', () => {
    expect(batchKey({ tenant: 'acme', batchId: 'batch_1' })).toBe('acme#batch_1');
    expect(batchKey({ tenant: 'a', batchId: 'b' })).not.toBe(batchKey({ tenant: 'b', batchId: 'b' }));
  });
});
