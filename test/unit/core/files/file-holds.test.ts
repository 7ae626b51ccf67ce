import { describe, expect, it } from 'vitest';
import { cancelBatch, createBatch } from '../../../../core/batches/batches-service.js';
import { finalizeBatch } from '../../../../core/batches/finalize-batch.js';
import { scheduleBatch } from '../../../../core/batches/schedule-batch.js';
import { ConflictError, NotFoundError } from '../../../../core/errors.js';
import { createFile, deleteFile, expireFiles, getFileRecord } from '../../../../core/files/files-service.js';
import { type FakeDeps, fakeDeps, jsonlOf } from '../../../support/fakes.js';

const tenant = 'acme';
const upload = (deps: FakeDeps, content = jsonlOf(3)) =>
  createFile(deps, tenant, { filename: 'in.jsonl', purpose: 'batch', content: Buffer.from(content) });
const start = (deps: FakeDeps, fileId: string) =>
  createBatch(deps, tenant, {
    input_file_id: fileId,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });

describe('a file held by a batch that has not ended', () => {
  it('is refused deletion with 409 while the batch runs, and deletable once it ended', async () => {
    const deps = fakeDeps();
    const file = await upload(deps);
    const batch = await start(deps, file.id);
    await expect(deleteFile(deps, tenant, file.id)).rejects.toThrow(ConflictError);
    await expect(deleteFile(deps, tenant, file.id)).rejects.toThrow(`is the input of batch ${batch.id}`);
    const ref = { tenant, batchId: batch.id };
    await cancelBatch(deps, ref);
    await finalizeBatch(deps, ref);
    expect((await deps.batches.get(ref))?.status).toBe('cancelled');
    await expect(deleteFile(deps, tenant, file.id)).resolves.toMatchObject({ deleted: true });
    expect(deps.blobs.objects.size).toBe(0);
  });

  it('is released by a batch that fails validation', async () => {
    const deps = fakeDeps();
    const file = await upload(deps, 'not json');
    const batch = await start(deps, file.id);
    expect(await scheduleBatch(deps, { tenant, batchId: batch.id })).toBe('failed');
    await expect(deleteFile(deps, tenant, file.id)).resolves.toMatchObject({ deleted: true });
  });

  it('clears a hold left by a batch that ended without releasing (a crash), then deletes', async () => {
    const deps = fakeDeps();
    const file = await upload(deps);
    const batch = await start(deps, file.id);
    await deps.batches.transition({ tenant, batchId: batch.id }, 'failed', 0); // ended, hold kept
    await expect(deleteFile(deps, tenant, file.id)).resolves.toMatchObject({ deleted: true });
  });

  it('cannot be the input of a new batch once deleted', async () => {
    const deps = fakeDeps();
    const file = await upload(deps);
    await deleteFile(deps, tenant, file.id);
    await expect(start(deps, file.id)).rejects.toThrow(NotFoundError);
  });
});

describe('file expiry', () => {
  it('hides a file past its expires_at at once, and the sweep deletes it and its bytes', async () => {
    const deps = fakeDeps();
    const file = await createFile(deps, tenant, {
      filename: 'in.jsonl',
      purpose: 'batch',
      content: Buffer.from(jsonlOf(1)),
      expiresAfter: { anchor: 'created_at', seconds: 3_600 },
    });
    expect(file.expires_at).toBe(file.created_at + 3_600);
    deps.clock.advance(3_600_000);
    await expect(getFileRecord(deps, tenant, file.id)).rejects.toThrow(NotFoundError);
    expect(await expireFiles(deps)).toEqual([file.id]);
    expect(deps.files.files.size).toBe(0);
    expect(deps.blobs.objects.size).toBe(0);
  });

  it('keeps an expired file that a running batch still reads, until the batch ends', async () => {
    const deps = fakeDeps();
    const file = await upload(deps);
    const batch = await start(deps, file.id);
    deps.clock.advance(31 * 86_400_000); // past the default 30-day retention
    expect(await expireFiles(deps)).toEqual([]);
    await deps.files.release(tenant, file.id, batch.id);
    expect(await expireFiles(deps)).toEqual([file.id]);
  });
});
