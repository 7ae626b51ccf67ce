import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planUploadedFile } from '../../../../core/chunks/file-plan.js';
import { NotFoundError } from '../../../../core/errors.js';
import {
  addUploadPart,
  cancelUpload,
  completeUpload,
  createUpload,
  expireUploads,
  PLAN_WHILE_STITCHING_MAX_BYTES,
  partUrls,
  uploadStatus,
} from '../../../../core/uploads/uploads-service.js';
import { fakeDeps, jsonlOf } from '../../../support/fakes.js';

const tenant = 'acme';
const create = (deps: ReturnType<typeof fakeDeps>, bytes: number, extra = {}) =>
  createUpload(deps, tenant, {
    filename: 'in.jsonl',
    purpose: 'batch',
    bytes,
    mime_type: 'application/jsonl',
    ...extra,
  });
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('uploads through API parts', () => {
  it('creates a pending upload due within the hour', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 5);
    expect(up).toMatchObject({ object: 'upload', status: 'pending', bytes: 5, purpose: 'batch', file: null });
    expect(up.expires_at - up.created_at).toBe(3600);
  });

  it('stitches the parts in the completion’s order into a File, checks md5, and removes the parts', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 11, { expires_after: { anchor: 'created_at', seconds: 7200 } });
    const b = await addUploadPart(deps, tenant, up.id, Buffer.from('world\n'));
    const a = await addUploadPart(deps, tenant, up.id, Buffer.from('hello'));
    expect(a).toMatchObject({ object: 'upload.part', upload_id: up.id });
    const done = await completeUpload(deps, tenant, up.id, {
      part_ids: [a.id, b.id],
      md5: md5('helloworld\n'),
    });
    expect(done.status).toBe('completed');
    expect(done.file).toMatchObject({ object: 'file', bytes: 11, purpose: 'batch', filename: 'in.jsonl' });
    expect(done.file?.expires_at).toBe((done.file?.created_at ?? 0) + 7200);
    const file = await deps.files.get(tenant, done.file?.id ?? '');
    expect(deps.blobs.text(file?.s3_key ?? '')).toBe('helloworld\n');
    expect([...deps.blobs.objects.keys()].filter((k) => k.includes('/uploads/'))).toEqual([]);
  });

  it('validates a batch file stitched from API parts on the way: its File gets the plan a direct upload would', async () => {
    const deps = fakeDeps({ CHUNK_MAX_LINES: '4' });
    const text = `${jsonlOf(10)}\n`;
    const cut = text.indexOf('\n', 300) + 5; // a part boundary inside a line
    const up = await create(deps, text.length);
    const a = await addUploadPart(deps, tenant, up.id, Buffer.from(text.slice(0, cut)));
    const b = await addUploadPart(deps, tenant, up.id, Buffer.from(text.slice(cut)));
    let lines = 0;
    const done = await completeUpload(
      deps,
      tenant,
      up.id,
      { part_ids: [a.id, b.id] },
      { linesValidated: (n) => (lines = n) },
    );
    const file = await deps.files.get(tenant, done.file?.id ?? '');
    expect(file?.plan).toBe((await planUploadedFile(Buffer.from(text), deps.limits)).plan);
    expect(file?.plan).toBeDefined();
    expect(lines).toBe(10);
  });

  it('validates no stitched file above PLAN_WHILE_STITCHING_MAX_BYTES: the completion stays within the gateway timeout', async () => {
    const deps = fakeDeps();
    // A clean file (unique ids), just over the bound.
    const text = `${jsonlOf(Math.ceil(PLAN_WHILE_STITCHING_MAX_BYTES / 100))}\n`;
    expect(text.length).toBeGreaterThan(PLAN_WHILE_STITCHING_MAX_BYTES);
    // Objects read back in one piece (the fake's 7-byte pieces would take half a minute here).
    deps.blobs.stream = async (key) =>
      (async function* () {
        yield deps.blobs.objects.get(key) ?? Buffer.alloc(0);
      })();
    const up = await create(deps, text.length);
    const a = await addUploadPart(deps, tenant, up.id, Buffer.from(text));
    let lines = -1;
    const done = await completeUpload(
      deps,
      tenant,
      up.id,
      { part_ids: [a.id] },
      { linesValidated: (n) => (lines = n) },
    );
    expect((await deps.files.get(tenant, done.file?.id ?? ''))?.plan).toBeUndefined();
    expect(lines).toBe(0);
  });

  it('stitches a file with a bad line into a File without a plan: its batches report the line at create', async () => {
    const deps = fakeDeps();
    const text = `${jsonlOf(2)}\nnot json\n`;
    const up = await create(deps, text.length);
    const a = await addUploadPart(deps, tenant, up.id, Buffer.from(text));
    const done = await completeUpload(deps, tenant, up.id, { part_ids: [a.id] });
    expect((await deps.files.get(tenant, done.file?.id ?? ''))?.plan).toBeUndefined();
  });

  it('refuses a wrong md5 and keeps the upload pending for a corrected completion', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 2);
    const a = await addUploadPart(deps, tenant, up.id, Buffer.from('a'));
    const b = await addUploadPart(deps, tenant, up.id, Buffer.from('b'));
    await expect(
      completeUpload(deps, tenant, up.id, { part_ids: [b.id, a.id], md5: md5('ab') }),
    ).rejects.toThrow(expect.objectContaining({ param: 'md5' }));
    expect(
      (await completeUpload(deps, tenant, up.id, { part_ids: [a.id, b.id], md5: md5('ab') })).status,
    ).toBe('completed');
  });

  it('answers complete twice, and parts after completion, with 400s', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 1);
    const a = await addUploadPart(deps, tenant, up.id, Buffer.from('x'));
    await completeUpload(deps, tenant, up.id, { part_ids: [a.id] });
    await expect(completeUpload(deps, tenant, up.id, { part_ids: [a.id] })).rejects.toThrow(
      expect.objectContaining({ status: 400, message: `Upload ${up.id} is already completed.` }),
    );
    await expect(addUploadPart(deps, tenant, up.id, Buffer.from('y'))).rejects.toThrow("status 'completed'");
  });

  it('cancels: no more parts, parts removed', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 3);
    await addUploadPart(deps, tenant, up.id, Buffer.from('abc'));
    expect((await cancelUpload(deps, tenant, up.id)).status).toBe('cancelled');
    await expect(addUploadPart(deps, tenant, up.id, Buffer.from('d'))).rejects.toThrow("status 'cancelled'");
    await expect(completeUpload(deps, tenant, up.id, { part_ids: [] })).rejects.toThrow("status 'cancelled'");
    expect([...deps.blobs.objects.keys()]).toEqual([]);
  });

  it('expires after an hour: refused at once, ended and cleaned by the sweep', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 3);
    await addUploadPart(deps, tenant, up.id, Buffer.from('abc'));
    deps.clock.advance(3_600_000);
    await expect(addUploadPart(deps, tenant, up.id, Buffer.from('d'))).rejects.toThrow("status 'expired'");
    expect(await expireUploads(deps)).toEqual([up.id]);
    expect((await deps.uploads.get(tenant, up.id))?.status).toBe('expired');
    expect([...deps.blobs.objects.keys()]).toEqual([]);
    expect(await expireUploads(deps)).toEqual([]);
  });

  it('keeps tenants apart: another tenant’s upload is a 404', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 1);
    await expect(addUploadPart(deps, 'other', up.id, Buffer.from('x'))).rejects.toThrow(NotFoundError);
  });

  it('refuses a purpose other than batch and a size over the limit', async () => {
    const deps = fakeDeps({ MAX_UPLOAD_BYTES: '100' });
    await expect(create(deps, 1, { purpose: 'fine-tune' })).rejects.toThrow(
      expect.objectContaining({ param: 'purpose' }),
    );
    await expect(create(deps, 101)).rejects.toThrow(expect.objectContaining({ param: 'bytes' }));
  });
});

describe('uploads through pre-signed S3 parts (openbatch extension)', () => {
  it('hands out part URLs for one S3 multipart upload and completes it from the parts in S3', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 10);
    const first = await partUrls(deps, tenant, up.id, [1, 2]);
    expect(first.data.map((u) => u.part_number)).toEqual([1, 2]);
    const again = await partUrls(deps, tenant, up.id, [2]); // a retry gets a URL for the same upload
    expect(deps.blobs.multipart.size).toBe(1);
    expect(again.data[0]?.url).toContain('partNumber=2');
    const [mpu] = [...deps.blobs.multipart.keys()];
    deps.blobs.putPart(mpu as string, 2, '56789');
    deps.blobs.putPart(mpu as string, 1, '01234');
    const status = await uploadStatus(deps, tenant, up.id);
    expect(status.openbatch).toEqual({
      mode: 'presigned',
      parts: [
        { part_number: 2, bytes: 5 },
        { part_number: 1, bytes: 5 },
      ],
    });
    const done = await completeUpload(deps, tenant, up.id, { part_ids: [], md5: md5('0123456789') });
    expect(deps.blobs.text((await deps.files.get(tenant, done.file?.id ?? ''))?.s3_key ?? '')).toBe(
      '0123456789',
    );
  });

  it('refuses a gap or a size mismatch, naming it, and leaves the upload pending', async () => {
    const deps = fakeDeps();
    const up = await create(deps, 10);
    await partUrls(deps, tenant, up.id, [1, 3]);
    const [mpu] = [...deps.blobs.multipart.keys()];
    deps.blobs.putPart(mpu as string, 1, '01234');
    deps.blobs.putPart(mpu as string, 3, '56789');
    await expect(completeUpload(deps, tenant, up.id, { part_ids: [] })).rejects.toThrow('Part 2 is missing');
    expect((await deps.uploads.get(tenant, up.id))?.status).toBe('pending');
  });

  it('does not mix API parts and pre-signed parts in one upload', async () => {
    const deps = fakeDeps();
    const a = await create(deps, 2);
    await addUploadPart(deps, tenant, a.id, Buffer.from('x'));
    await expect(partUrls(deps, tenant, a.id, [1])).rejects.toThrow(
      expect.objectContaining({ code: 'upload_mode_mismatch' }),
    );
    const b = await create(deps, 2);
    await partUrls(deps, tenant, b.id, [1]);
    await expect(addUploadPart(deps, tenant, b.id, Buffer.from('x'))).rejects.toThrow(
      expect.objectContaining({ code: 'upload_mode_mismatch' }),
    );
  });

  it('aborts the S3 multipart upload on cancel and on expiry', async () => {
    const deps = fakeDeps();
    const a = await create(deps, 2);
    await partUrls(deps, tenant, a.id, [1]);
    await cancelUpload(deps, tenant, a.id);
    expect(deps.blobs.multipart.size).toBe(0);
    const b = await create(deps, 2);
    await partUrls(deps, tenant, b.id, [1]);
    deps.clock.advance(3_600_000);
    await expireUploads(deps);
    expect(deps.blobs.multipart.size).toBe(0);
  });
});
