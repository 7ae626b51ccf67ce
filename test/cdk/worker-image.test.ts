import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from './support.js';

/**
 * The gpu-worker image cannot be built here (no Docker), so its Dockerfile is checked by
 * reading it, and its build step (the esbuild bundle) and health check are run for real.
 */
const dockerfile = readFileSync(resolve(root, 'gpu-worker/Dockerfile'), 'utf8');
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages: { name: string; lines: string[] }[] = [];
for (const line of instructions) {
  const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
  if (from) stages.push({ name: from[2] ?? from[1] ?? '', lines: [] });
  else stages.at(-1)?.lines.push(line);
}
const runtime = stages.at(-1) as { name: string; lines: string[] };
const build = stages.find((s) => s.name === 'build') as { name: string; lines: string[] };
// Docker's ignore-file semantics, as implemented by the library CDK stages image assets with.
const dockerignore = createRequire(createRequire(import.meta.url).resolve('aws-cdk-lib/package.json'))(
  '@balena/dockerignore',
) as () => { add(patterns: string): { ignores(path: string): boolean } };
const packageJson = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('gpu-worker/Dockerfile', () => {
  it('is multi-stage: esbuild from the lock, a build stage, and a runtime stage that copies only the bundle', () => {
    expect(stages.map((s) => s.name)).toEqual(['esbuild', 'build', 'runtime']);
    const copies = runtime.lines.filter((l) => l.startsWith('COPY'));
    expect(copies.filter((l) => l.includes('--from=build'))).toEqual([expect.stringContaining('/src/dist/')]);
    expect(runtime.lines.some((l) => /\bnpm\b/.test(l))).toBe(false);
  });

  it('pins its base image to a Node.js LTS tag', () => {
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(arg).toMatch(/^node:(20|22|24)-[a-z]+-slim$/);
  });

  it('installs production dependencies only', () => {
    expect(build.lines).toContainEqual(expect.stringMatching(/^RUN npm ci --omit=dev\b/));
  });

  it('runs as a non-root user', () => {
    const user = runtime.lines.filter((l) => l.startsWith('USER')).at(-1);
    expect(user).toBe('USER node');
  });

  it('runs the worker under tini, in exec form, so SIGTERM reaches it', () => {
    expect(runtime.lines).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime.lines.find((l) => l.startsWith('CMD'))).toBe(
      'CMD ["node", "--enable-source-maps", "worker.mjs"]',
    );
    expect(runtime.lines.some((l) => /apt-get install .*\btini\b/.test(l))).toBe(true);
  });

  it('reports health', () => {
    expect(runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(
      /CMD \["node", "healthcheck\.mjs"\]$/,
    );
  });

  it('copies only files that exist, and that its ignore file lets into the context', () => {
    const ig = dockerignore().add(readFileSync(resolve(root, 'gpu-worker/Dockerfile.dockerignore'), 'utf8'));
    const sources = stages
      .flatMap((s) => s.lines)
      .filter((l) => l.startsWith('COPY') && !l.includes('--from='))
      .flatMap((l) =>
        l
          .split(/\s+/)
          .slice(1, -1)
          .filter((p) => !p.startsWith('--')),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(resolve(root, source)), source).toBe(true);
      expect(ig.ignores(source), `${source} is in the build context`).toBe(false);
    }
    for (const kept of ['gpu-worker/src/main.ts', 'core/app/declaration.ts', 'gpu-worker/healthcheck.mjs'])
      expect(ig.ignores(kept), kept).toBe(false);
    for (const dropped of [
      'node_modules/zod/package.json',
      'lambdas/authorizer/handler.ts',
      'portal/index.html',
      'cdk/config.ts',
      '.git/HEAD',
    ])
      expect(ig.ignores(dropped), dropped).toBe(true);
  });

  it('bundles with the esbuild the repository locks: a pinned devDependency, installed by npm ci from the lock', () => {
    const installed = JSON.parse(readFileSync(resolve(root, 'node_modules/esbuild/package.json'), 'utf8'))
      .version as string;
    expect(packageJson.devDependencies.esbuild).toBe(installed);
    const lock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<
        string,
        { version?: string; integrity?: string; devDependencies?: Record<string, string> }
      >;
    };
    expect(lock.packages['']?.devDependencies?.esbuild).toBe(installed);
    expect(lock.packages['node_modules/esbuild']?.version).toBe(installed);
    // Nothing fetched outside the lock file.
    expect(dockerfile).not.toMatch(/npx\s+--yes|npx -y|npm (install|i) esbuild/);
    const tools = stages.find((s) => s.name === 'esbuild') as { lines: string[] };
    expect(tools.lines.at(-1)).toMatch(/\s&& npm ci --no-audit --no-fund$/);
    // Run the stage's lock extraction here: a project pinned to the locked esbuild, with the
    // lock's integrity hashes for esbuild and its linux-x64 binary.
    const dir = mkdtempSync(join(tmpdir(), 'esbuild-lock-'));
    copyFileSync(resolve(root, 'package-lock.json'), join(dir, 'repository-lock.json'));
    const script = /^RUN node -e "(.*)"\s+&& npm ci/.exec(tools.lines.at(-1) as string)?.[1] as string;
    execFileSync(process.execPath, ['-e', script], { cwd: dir });
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies).toEqual({
      esbuild: installed,
    });
    const extracted = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as typeof lock;
    expect(extracted.packages['node_modules/esbuild']).toEqual(lock.packages['node_modules/esbuild']);
    expect(extracted.packages['node_modules/@esbuild/linux-x64']?.integrity).toBe(
      lock.packages['node_modules/@esbuild/linux-x64']?.integrity,
    );
    expect(build.lines).toContain('COPY --from=esbuild /tools/node_modules /tools/node_modules');
  });
});

describe('the image build step, run here', () => {
  const out = mkdtempSync(join(tmpdir(), 'worker-bundle-'));
  const esbuildLine = build.lines.find((l) => l.startsWith('RUN /tools/node_modules/.bin/esbuild')) as string;
  // The Dockerfile's own command, with the locally installed esbuild and a scratch output.
  const command = esbuildLine
    .replace(/^RUN\s+/, '')
    .replace('/tools/node_modules/.bin/esbuild', JSON.stringify(resolve(root, 'node_modules/.bin/esbuild')))
    .replace(
      '--outfile=dist/worker.mjs',
      `--outfile=${join(out, 'worker.mjs')} --metafile=${join(out, 'meta.json')} --log-level=warning`,
    );
  execFileSync('sh', ['-c', command], { cwd: root, stdio: 'pipe' });

  it('bundles gpu-worker/src/main.ts from core/, the worker and production dependencies only', () => {
    const inputs = Object.keys(
      (JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> })
        .inputs,
    );
    expect(inputs).toContain('gpu-worker/src/main.ts');
    const packages = new Set<string>();
    for (const input of inputs) {
      if (input.startsWith('node_modules/')) {
        const [, a, b] = input.split('/');
        packages.add(a?.startsWith('@') ? `${a}/${b}` : (a as string));
      } else expect(input, input).toMatch(/^(core|gpu-worker\/src)\//);
    }
    const prod = new Set(Object.keys(packageJson.dependencies));
    // Every package the bundle pulls in comes from a production dependency's tree.
    const direct = [...packages].filter((p) => prod.has(p));
    expect(direct.length).toBeGreaterThan(0);
    for (const p of packages) expect(Object.keys(packageJson.devDependencies), p).not.toContain(p);
  });

  it('starts and fails fast, naming the missing setting', () => {
    let stderr = '';
    let status = 0;
    try {
      execFileSync(process.execPath, [join(out, 'worker.mjs')], {
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
        stdio: 'pipe',
        timeout: 20_000,
      });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/Invalid configuration: .*POOL/);
  });
});

describe('gpu-worker/healthcheck.mjs', () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  const engine = async (status: number): Promise<string> => {
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/v1/models' ? status : 404, { 'content-type': 'application/json' });
      res.end('{"data":[]}');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const check = (env: Record<string, string>) =>
    new Promise<number>((done) => {
      const child = spawn(process.execPath, [resolve(root, 'gpu-worker/healthcheck.mjs')], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
      });
      child.on('exit', (code) => done(code ?? -1));
    });

  it('is healthy with the simulated engine (no ENGINE_URL)', async () => {
    expect(await check({})).toBe(0);
  });

  it("is healthy when the engine lists its models, with or without '/v1' in ENGINE_URL", async () => {
    const url = await engine(200);
    expect(await check({ ENGINE_URL: url })).toBe(0);
    expect(await check({ ENGINE_URL: `${url}/v1/` })).toBe(0);
  });

  it('is unhealthy when the engine errors or is unreachable', async () => {
    expect(await check({ ENGINE_URL: await engine(503) })).toBe(1);
    expect(await check({ ENGINE_URL: 'http://127.0.0.1:9' })).toBe(1);
  });
});
