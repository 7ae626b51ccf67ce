import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const portal = join(root, 'portal');
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'tsconfig.json'];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** True when portal/dist is missing or older than any portal source. */
export function portalBuildIsStale(): boolean {
  const built = join(portal, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return SOURCES.map((s) => join(portal, s))
    .filter(existsSync)
    .some((p) => newestMtime(p) > builtAt);
}

/** Builds the portal (`vite build`, a few seconds) unless portal/dist is up to date. */
export function ensurePortalBuilt(): void {
  if (!portalBuildIsStale()) return;
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', portal, '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
}

// `tsx portal/scripts/ensure-built.ts` (npm run portal:ensure-built): build only when needed.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const stale = portalBuildIsStale();
  ensurePortalBuilt();
  console.log(stale ? 'portal: built portal/dist' : 'portal: portal/dist is up to date');
}
