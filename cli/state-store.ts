import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What a rerun needs to resume an upload of the same file: one JSON file per file and server. */
export interface UploadState {
  version: 1;
  upload_id: string;
  /** Absolute path of the file. */
  file_path: string;
  size: number;
  mtime_ms: number;
  part_size: number;
  base_url: string;
  created_at: number;
}

/** `OPENBATCH_STATE_DIR`, or `~/.openbatch/uploads`. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENBATCH_STATE_DIR || join(homedir(), '.openbatch', 'uploads');
}

/** The state file's name: the same file uploaded to another server is another upload. */
export function stateKey(absolutePath: string, baseUrl: string): string {
  return createHash('sha256').update(`${absolutePath}\n${baseUrl}`).digest('hex').slice(0, 32);
}

/** The file is still the one the upload was started for. */
export function sameFile(state: UploadState, file: { size: number; mtimeMs: number }): boolean {
  return state.size === file.size && state.mtime_ms === file.mtimeMs;
}

export class StateStore {
  constructor(readonly dir: string) {}

  pathOf(key: string): string {
    return join(this.dir, `${key}.json`);
  }

  /** The saved state, or undefined when there is none or it cannot be read. */
  load(key: string): UploadState | undefined {
    let text: string;
    try {
      text = readFileSync(this.pathOf(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const s = JSON.parse(text) as Partial<UploadState>;
      const ok =
        s.version === 1 &&
        typeof s.upload_id === 'string' &&
        typeof s.file_path === 'string' &&
        typeof s.size === 'number' &&
        typeof s.mtime_ms === 'number' &&
        typeof s.part_size === 'number' &&
        typeof s.base_url === 'string';
      return ok ? (s as UploadState) : undefined;
    } catch {
      return undefined; // a torn or foreign file: start over
    }
  }

  /** Written whole (temporary file, then rename), so a crash never leaves half a state. */
  save(key: string, state: UploadState): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const target = this.pathOf(key);
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, target);
  }

  remove(key: string): void {
    rmSync(this.pathOf(key), { force: true });
  }
}
