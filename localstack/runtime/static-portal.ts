import { createReadStream, existsSync, type Stats, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, gzip, constants as zlib } from 'node:zlib';
import { isPortalRoute } from '../../core/app/portal-routes.js';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** Text types worth compressing; images and fonts are compressed already. */
const compressible = new Set(['.html', '.js', '.css', '.json', '.svg', '.map']);
/** CloudFront compresses objects from 1,000 bytes; smaller ones gain nothing. */
const MIN_COMPRESS_BYTES = 1_000;

export type Encoding = 'br' | 'gzip';

/**
 * The encoding to answer with, as CloudFront chooses it: Brotli when the client accepts it,
 * else gzip, else none. A coding listed with `q=0` is refused; `*` accepts both.
 */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding | null {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name, q ? Number(q.slice(2)) || 0 : 1);
  }
  const ok = (coding: string) => (accepted.get(coding) ?? accepted.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return null;
}

const compressors: Record<Encoding, (data: Buffer) => Promise<Buffer>> = {
  // Quality 9: close to the maximum ratio at a fraction of quality 11's time, once per file.
  br: (data) => promisify(brotliCompress)(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9 } }),
  gzip: (data) => promisify(gzip)(data, { level: 9 }),
};

/**
 * Serves the built portal (portal/dist) the way S3 + CloudFront do in production: static
 * files, `index.html` for client-side routes, and `/config.json` carrying the API's URL. Text
 * files go out compressed (Brotli or gzip, as the browser accepts), as CloudFront's
 * `compress: true` sends them; each file is compressed once and kept while it is unchanged.
 */
export function portalHandler(distDir: string, config: () => Record<string, unknown>) {
  const root = resolve(distDir);
  const compressed = new Map<string, { version: string; body: Promise<Buffer> }>();
  const compressedBody = (file: string, st: Stats, encoding: Encoding): Promise<Buffer> => {
    const key = `${encoding}:${file}`;
    const version = `${st.mtimeMs}:${st.size}`;
    const hit = compressed.get(key);
    if (hit?.version === version) return hit.body;
    const body = readFile(file).then(compressors[encoding]);
    compressed.set(key, { version, body });
    body.catch(() => compressed.delete(key));
    return body;
  };
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path.startsWith('/v1/') || path === '/v1') return false;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(config()));
      return true;
    }
    if (!existsSync(join(root, 'index.html'))) {
      if (path !== '/') return false;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('openbatch API is at /v1. The portal is not built (portal/dist is missing).\n');
      return true;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return false; // not a path the portal has: the gateway answers it
    }
    const candidate = normalize(join(root, decoded));
    const asset = candidate.startsWith(root) && existsSync(candidate) && statSync(candidate).isFile();
    // Client-side routes get index.html, as the CloudFront function gives them; other paths are not the portal's.
    if (!asset && !isPortalRoute(path)) return false;
    const file = asset ? candidate : join(root, 'index.html');
    const headers: Record<string, string> = {
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
    };
    const st = statSync(file);
    if (compressible.has(extname(file)) && st.size >= MIN_COMPRESS_BYTES) {
      headers.vary = 'Accept-Encoding';
      const encoding = chooseEncoding(req.headers['accept-encoding']);
      if (encoding) {
        const body = await compressedBody(file, st, encoding);
        res.writeHead(200, {
          ...headers,
          'content-encoding': encoding,
          'content-length': String(body.length),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
        return true;
      }
    }
    res.writeHead(200, { ...headers, 'content-length': String(st.size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
