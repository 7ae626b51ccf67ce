import * as z from 'zod/mini';

/**
 * Runtime configuration, read from `/config.json` at start-up (served by CloudFront in
 * production and by the local runtime on `npm start`), so one build runs in every environment.
 */
const runtimeConfigSchema = z.object({
  apiBaseUrl: z.string().check(z.url()),
  environment: z.optional(z.string()),
  /**
   * Completion windows the deployment accepts (its COMPLETION_WINDOWS); default the server's
   * default allowlist. OpenAI's `24h` is always among them, as the server always accepts it.
   */
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

/**
 * The server's default allowlist of completion windows (core/sla/windows.ts
 * DEFAULT_COMPLETION_WINDOWS, which the type below checks): what a deployment accepts when it
 * sets no COMPLETION_WINDOWS.
 */
export const DEFAULT_COMPLETION_WINDOWS = [
  '1h',
  '4h',
  '24h',
  '72h',
  '7d',
] as const satisfies typeof import('../../../core/sla/windows.js').DEFAULT_COMPLETION_WINDOWS;

/** OpenAI's window: every deployment accepts it, and the form starts on it. */
export const OPENAI_WINDOW = '24h';

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
    completionWindows: c.completionWindows?.length
      ? [...new Set([...c.completionWindows, OPENAI_WINDOW])]
      : [...DEFAULT_COMPLETION_WINDOWS],
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
