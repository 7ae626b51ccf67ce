import * as z from 'zod/mini';

/**
 * Runtime configuration, read from `/config.json` at start-up (served by CloudFront in
 * production and by the local runtime on `npm start`), so one build runs in every environment.
 */
const runtimeConfigSchema = z.object({
  apiBaseUrl: z.string().check(z.url()),
  environment: z.optional(z.string()),
  /** Completion windows the server accepts; default `24h` (the server's default). */
  completionWindows: z.optional(z.array(z.string())),
  /**
   * Largest file sent in one `POST /v1/files` (the API's MAX_API_UPLOAD_BYTES); default 4 MiB.
   * Larger files go through the Uploads API in pre-signed parts straight to storage.
   */
  directUploadLimitBytes: z.optional(z.int().check(z.positive())),
});

export interface RuntimeConfig {
  apiBaseUrl: string;
  environment: string;
  completionWindows: string[];
  directUploadLimitBytes: number;
}

/** The API's default MAX_API_UPLOAD_BYTES. */
export const DEFAULT_DIRECT_UPLOAD_LIMIT_BYTES = 4 * 1024 * 1024;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseRuntimeConfig(raw: unknown): RuntimeConfig {
  const parsed = z.safeParse(runtimeConfigSchema, raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'config.json';
    throw new ConfigError(`Invalid /config.json: '${where}' ${issue?.message ?? 'is invalid'}`);
  }
  const c = parsed.data;
  return {
    apiBaseUrl: c.apiBaseUrl.replace(/\/+$/, ''),
    environment: c.environment ?? 'unknown',
    completionWindows: c.completionWindows?.length ? c.completionWindows : ['24h'],
    directUploadLimitBytes: c.directUploadLimitBytes ?? DEFAULT_DIRECT_UPLOAD_LIMIT_BYTES,
  };
}

export async function loadRuntimeConfig(fetchFn: typeof fetch = fetch): Promise<RuntimeConfig> {
  const res = await fetchFn('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new ConfigError(`Could not load /config.json (HTTP ${res.status}).`);
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new ConfigError('/config.json is not valid JSON.');
  }
  return parseRuntimeConfig(raw);
}
