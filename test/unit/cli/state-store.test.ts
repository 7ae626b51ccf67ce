import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultStateDir,
  StateStore,
  sameFile,
  stateKey,
  type UploadState,
} from '../../../cli/state-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'openbatch-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state: UploadState = {
  version: 1,
  upload_id: 'upload_abc',
  file_path: '/data/requests.jsonl',
  size: 12_345_678,
  mtime_ms: 1_790_000_000_123.5,
  part_size: 16 * 1024 * 1024,
  base_url: 'http://127.0.0.1:8080/v1',
  created_at: 1_790_000_000,
};

describe('StateStore', () => {
  it('saves, loads and removes a state, creating its folder, private to the user', () => {
    const store = new StateStore(join(dir, 'nested', 'uploads'));
    const key = stateKey(state.file_path, state.base_url);
    expect(store.load(key)).toBeUndefined();
    store.save(key, state);
    expect(store.load(key)).toEqual(state);
    expect(store.pathOf(key)).toBe(join(dir, 'nested', 'uploads', `${key}.json`));
    expect(statSync(store.pathOf(key)).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'nested', 'uploads'))).toEqual([`${key}.json`]); // no temporary left
    store.save(key, { ...state, upload_id: 'upload_def' });
    expect(store.load(key)?.upload_id).toBe('upload_def');
    store.remove(key);
    expect(store.load(key)).toBeUndefined();
    store.remove(key); // removing what is not there is fine
  });

  it('reads a torn or foreign file as no state', () => {
    const store = new StateStore(dir);
    writeFileSync(store.pathOf('torn'), '{"version":1,"upload_id":"up');
    writeFileSync(store.pathOf('foreign'), JSON.stringify({ version: 2, upload_id: 'x' }));
    expect(store.load('torn')).toBeUndefined();
    expect(store.load('foreign')).toBeUndefined();
  });
});

describe('stateKey', () => {
  it('is one key per file and server', () => {
    const k = stateKey('/a/f.jsonl', 'http://x/v1');
    expect(k).toMatch(/^[0-9a-f]{32}$/);
    expect(stateKey('/a/f.jsonl', 'http://x/v1')).toBe(k);
    expect(stateKey('/a/g.jsonl', 'http://x/v1')).not.toBe(k);
    expect(stateKey('/a/f.jsonl', 'http://y/v1')).not.toBe(k);
  });
});

it('tells a changed file by its size or modification time', () => {
  expect(sameFile(state, { size: state.size, mtimeMs: state.mtime_ms })).toBe(true);
  expect(sameFile(state, { size: state.size + 1, mtimeMs: state.mtime_ms })).toBe(false);
  expect(sameFile(state, { size: state.size, mtimeMs: state.mtime_ms + 1 })).toBe(false);
});

it('keeps state in OPENBATCH_STATE_DIR, else under the home folder', () => {
  expect(defaultStateDir({ OPENBATCH_STATE_DIR: '/tmp/x' })).toBe('/tmp/x');
  expect(defaultStateDir({})).toMatch(/\.openbatch[/\\]uploads$/);
});
