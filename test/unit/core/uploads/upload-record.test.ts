import { describe, expect, it } from 'vitest';
import {
  assertPending,
  checkS3Parts,
  effectiveStatus,
  orderParts,
  type UploadPartRecord,
  type UploadRecord,
} from '../../../../core/uploads/upload-record.js';

const upload = (over: Partial<UploadRecord> = {}): UploadRecord => ({
  tenant: 't',
  id: 'upload_1',
  filename: 'in.jsonl',
  purpose: 'batch',
  bytes: 10,
  mime_type: 'application/jsonl',
  created_at: 1000,
  expires_at: 4600,
  status: 'pending',
  file_id: 'file-1',
  s3_key: 't/files/file-1.jsonl',
  active: 'yes',
  ...over,
});
const part = (id: string, bytes: number): UploadPartRecord => ({
  tenant: 't',
  id: `upload_1#${id}`,
  upload_id: 'upload_1',
  part_id: id,
  bytes,
  s3_key: `t/uploads/upload_1/${id}`,
  created_at: 1001,
});

describe('effectiveStatus', () => {
  it('reads a pending upload past its hour as expired, before any sweep', () => {
    expect(effectiveStatus(upload(), 4599)).toBe('pending');
    expect(effectiveStatus(upload(), 4600)).toBe('expired');
    expect(effectiveStatus(upload({ status: 'completed' }), 9999)).toBe('completed');
  });
});

describe('assertPending', () => {
  it.each(['completed', 'cancelled'] as const)(
    'refuses to change a %s upload with a 400 naming its status',
    (status) => {
      expect(() => assertPending(upload({ status }), 2000, 'add parts to')).toThrow(
        expect.objectContaining({
          status: 400,
          message: `Cannot add parts to an Upload with status '${status}'.`,
          code: `upload_${status}`,
        }),
      );
    },
  );

  it('refuses an expired upload', () => {
    expect(() => assertPending(upload(), 5000, 'complete')).toThrow("status 'expired'");
  });
});

describe('orderParts', () => {
  const parts = [part('part_a', 4), part('part_b', 6)];

  it('returns the parts in the order the completion names them', () => {
    expect(orderParts(upload(), ['part_b', 'part_a'], parts).map((p) => p.part_id)).toEqual([
      'part_b',
      'part_a',
    ]);
  });

  it('refuses an unknown part, naming its position', () => {
    expect(() => orderParts(upload(), ['part_a', 'part_x'], parts)).toThrow(
      expect.objectContaining({
        param: 'part_ids[1]',
        message: "Unknown part 'part_x' for Upload upload_1.",
      }),
    );
  });

  it('refuses a part listed twice', () => {
    expect(() => orderParts(upload({ bytes: 8 }), ['part_a', 'part_a'], parts)).toThrow('listed twice');
  });

  it('refuses parts that do not add up to the declared bytes', () => {
    expect(() => orderParts(upload({ bytes: 11 }), ['part_a', 'part_b'], parts)).toThrow(
      expect.objectContaining({ param: 'bytes' }),
    );
  });

  it('refuses an empty list', () => {
    expect(() => orderParts(upload(), [], parts)).toThrow(expect.objectContaining({ param: 'part_ids' }));
  });
});

describe('checkS3Parts', () => {
  it('accepts parts 1..N in any listing order that add up', () => {
    expect(() =>
      checkS3Parts(upload(), [
        { partNumber: 2, size: 4 },
        { partNumber: 1, size: 6 },
      ]),
    ).not.toThrow();
  });

  it('names the first missing part', () => {
    expect(() =>
      checkS3Parts(upload(), [
        { partNumber: 1, size: 4 },
        { partNumber: 3, size: 6 },
      ]),
    ).toThrow('Part 2 is missing');
  });

  it('refuses no parts, and a size mismatch', () => {
    expect(() => checkS3Parts(upload(), [])).toThrow('No parts');
    expect(() => checkS3Parts(upload(), [{ partNumber: 1, size: 9 }])).toThrow('add up to 9 bytes');
  });
});
