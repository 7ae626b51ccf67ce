import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseEncoding, portalHandler } from '../../localstack/runtime/static-portal.js';

/** The local runtime's portal server (localstack/runtime/static-portal.ts): compression. */
describe('chooseEncoding', () => {
  it('prefers Brotli, then gzip, as the client accepts them', () => {
    expect(chooseEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(chooseEncoding('gzip, deflate')).toBe('gzip');
    expect(chooseEncoding('deflate')).toBeNull();
    expect(chooseEncoding(undefined)).toBeNull();
    expect(chooseEncoding('')).toBeNull();
  });

  it('honours q=0 refusals and the wildcard', () => {
    expect(chooseEncoding('br;q=0, gzip')).toBe('gzip');
    expect(chooseEncoding('br;q=0, gzip;q=0')).toBeNull();
    expect(chooseEncoding('*')).toBe('br');
    expect(chooseEncoding('*, br;q=0')).toBe('gzip');
    expect(chooseEncoding('identity')).toBeNull();
  });
});

describe('portalHandler', () => {
  const js = `export const hello = ${JSON.stringify('x'.repeat(50))};\n`.repeat(200);
  let dist: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'portal-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(
      join(dist, 'index.html'),
      `<!doctype html><title>openbatch</title>${'<!-- pad -->'.repeat(100)}`,
    );
    writeFileSync(join(dist, 'assets', 'app-abc.js'), js);
    writeFileSync(join(dist, 'assets', 'tiny.css'), 'body{margin:0}');
    writeFileSync(join(dist, 'assets', 'logo.png'), Buffer.alloc(4_000, 7));
    const handle = portalHandler(dist, () => ({ apiBaseUrl: 'http://x/v1' }));
    server = createServer(async (req, res) => {
      if (!(await handle(req, res))) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dist, { recursive: true, force: true });
  });

  // node's fetch decodes bodies itself; read the raw bytes with a plain request instead.
  async function get(path: string, acceptEncoding?: string, method = 'GET') {
    return new Promise<{
      status: number;
      headers: Record<string, string | string[] | undefined>;
      body: Buffer;
    }>((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        { method, headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('sends a script Brotli-compressed to a browser that accepts it, and says so', async () => {
    const res = await get('/assets/app-abc.js', 'gzip, deflate, br');
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    expect(res.body.length).toBeLessThan(js.length / 10);
    expect(brotliDecompressSync(res.body).toString()).toBe(js);
  });

  it('falls back to gzip, then to the file as it is', async () => {
    const gz = await get('/assets/app-abc.js', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(js);
    const plain = await get('/assets/app-abc.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    expect(plain.body.toString()).toBe(js);
  });

  it('compresses the index.html a client-side route answers with, but not tiny or binary files', async () => {
    const page = await get('/batches/batch_1', 'br');
    expect(page.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(page.body).toString()).toContain('<title>openbatch</title>');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect((await get('/assets/tiny.css', 'br')).headers['content-encoding']).toBeUndefined();
    expect((await get('/assets/logo.png', 'br')).headers['content-encoding']).toBeUndefined();
  });

  it('answers HEAD with the compressed length and no body', async () => {
    const head = await get('/assets/app-abc.js', 'br', 'HEAD');
    const full = await get('/assets/app-abc.js', 'br');
    expect(head.headers['content-encoding']).toBe('br');
    expect(head.headers['content-length']).toBe(full.headers['content-length']);
    expect(head.body.length).toBe(0);
  });

  it('compresses a file again once it changes', async () => {
    const before = brotliDecompressSync((await get('/assets/app-abc.js', 'br')).body).toString();
    const changed = `${js}export const more = 1;\n`;
    writeFileSync(join(dist, 'assets', 'app-abc.js'), changed);
    const after = brotliDecompressSync((await get('/assets/app-abc.js', 'br')).body).toString();
    expect(before).toBe(js);
    expect(after).toBe(changed);
  });
});
