import { describe, expect, it } from 'vitest';
import { functions } from '../../../../core/app/declaration.js';
import { createDeps } from '../../../../core/app/deps.js';
import { resolveResources, WiringError } from '../../../../core/app/resources.js';
import { ConfigError } from '../../../../core/config.js';

const slaEnv = {
  BATCHES_TABLE: 'p-batches',
  CHUNKS_TABLE: 'p-chunks',
  POOLS_TABLE: 'p-pools',
  SPOT_QUEUE_URL: 'http://sqs/p-spot',
  DEDICATED_QUEUE_URL: 'http://sqs/p-dedicated',
  FINALIZING_QUEUE_URL: 'http://sqs/p-finalizing',
  SCHEDULING_QUEUE_URL: 'http://sqs/p-scheduling',
};

describe('resolveResources', () => {
  it('names each declared resource from its variable', () => {
    const r = resolveResources('slaMonitor', functions.slaMonitor.uses, slaEnv);
    expect(r.table('chunks')).toBe('p-chunks');
    expect(r.queue('dedicated')).toBe('http://sqs/p-dedicated');
  });

  it('fails fast, naming every missing variable at once', () => {
    expect(() => resolveResources('slaMonitor', functions.slaMonitor.uses, { BATCHES_TABLE: 'x' })).toThrow(
      new ConfigError(
        'slaMonitor: missing CHUNKS_TABLE (table chunks), POOLS_TABLE (table pools), SPOT_QUEUE_URL (queue spot), DEDICATED_QUEUE_URL (queue dedicated), FINALIZING_QUEUE_URL (queue finalizing), SCHEDULING_QUEUE_URL (queue scheduling)',
      ),
    );
  });

  it('refuses an undeclared resource with an error naming the principal and the resource', () => {
    // Even when the variable happens to be in the environment (one shared env, locally).
    const r = resolveResources('slaMonitor', functions.slaMonitor.uses, {
      ...slaEnv,
      FILES_TABLE: 'p-files',
    });
    expect(() => r.table('files')).toThrow(WiringError);
    expect(() => r.table('files')).toThrow("slaMonitor uses table 'files' but does not declare it");
    expect(() => r.bucket('files')).toThrow("slaMonitor uses bucket 'files'");
    const finalizer = resolveResources('finalizer', functions.finalizer.uses, {
      FILES_BUCKET: 'p-files',
      FILES_TABLE: 'p-files',
      BATCHES_TABLE: 'p-batches',
      CHUNKS_TABLE: 'p-chunks',
      SPOT_QUEUE_URL: 'http://sqs/p-spot',
    });
    expect(() => finalizer.queue('spot')).toThrow("finalizer uses queue 'spot'");
  });
});

describe('createDeps', () => {
  const aws = { AWS_REGION: 'us-east-1' };

  it('builds a function’s deps from exactly its declaration', async () => {
    const deps = createDeps('slaMonitor', { ...aws, ...slaEnv });
    await expect(deps.files.get('t', 'f')).rejects.toThrow("slaMonitor uses table 'files'");
    await expect(deps.blobs.read('k')).rejects.toThrow("slaMonitor uses bucket 'files'");
    await expect(deps.dedup.listPacks('t', { maxEntries: 1 })).rejects.toThrow(
      "slaMonitor uses table 'dedup'",
    );
  });

  it('fails at start-up when a declared variable is missing', () => {
    expect(() => createDeps('scheduler', aws)).toThrow(/scheduler: missing FILES_BUCKET/);
  });
});
