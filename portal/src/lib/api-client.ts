import type { OpenAIErrorBody } from '../types/api';

/** An error the API answered with (OpenAI's error shape), or a network failure (status 0). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string | null = null,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined>;

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Called on any 401, so the app can ask for a new key. */
  onUnauthorized?: (err: ApiError) => void;
}

async function errorFrom(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<OpenAIErrorBody>;
    if (body.error && typeof body.error.message === 'string') {
      const e = body.error;
      return new ApiError(res.status, e.message, e.type ?? null, e.code ?? null, e.param ?? null);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(
    res.status,
    `The API answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}.`,
  );
}

/**
 * The one client for openbatch's API: base URL from runtime config, the user's key as a bearer
 * token, OpenAI error bodies turned into `ApiError`s. Features build their endpoint calls on it.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #onUnauthorized: ((err: ApiError) => void) | undefined;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#apiKey = opts.apiKey;
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.#onUnauthorized = opts.onUnauthorized;
  }

  url(path: string, query?: Query): string {
    const u = new URL(`${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  get authHeader(): Record<string, string> {
    return { authorization: `Bearer ${this.#apiKey}` };
  }

  /** A raw response (2xx only), for streaming file content. */
  async raw(path: string, init: RequestInit & { query?: Query } = {}): Promise<Response> {
    const { query, headers, ...rest } = init;
    let res: Response;
    try {
      res = await this.#fetch(this.url(path, query), {
        ...rest,
        headers: { ...this.authHeader, ...(headers as Record<string, string> | undefined) },
      });
    } catch (cause) {
      if ((cause as Error)?.name === 'AbortError') throw cause;
      throw new ApiError(0, `Cannot reach the API at ${this.baseUrl}. Check your connection.`);
    }
    if (!res.ok) {
      const err = await errorFrom(res);
      if (err.status === 401) this.#onUnauthorized?.(err);
      throw err;
    }
    return res;
  }

  /**
   * A request to a URL outside the API (the local runtime's `/metrics`), through the same fetch
   * but without the API key: the key goes to `apiBaseUrl` only.
   */
  fetchOutside(url: string, init: RequestInit = {}): Promise<Response> {
    return this.#fetch(url, init);
  }

  async get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    const res = await this.raw(path, {
      method: 'GET',
      ...(query ? { query } : {}),
      ...(signal ? { signal } : {}),
    });
    return (await res.json()) as T;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    const res = await this.raw(path, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    return (await res.json()) as T;
  }

  /**
   * A multipart upload with real progress events (fetch cannot report upload progress, so this
   * one uses XMLHttpRequest).
   */
  upload<T>(
    path: string,
    form: FormData,
    onProgress?: (p: UploadProgress) => void,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.url(path));
      for (const [k, v] of Object.entries(this.authHeader)) xhr.setRequestHeader(k, v);
      xhr.responseType = 'text';
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress?.({ loaded: e.loaded, total: e.total });
      };
      xhr.onload = () => {
        const res = new Response(xhr.responseText, { status: xhr.status });
        if (xhr.status >= 200 && xhr.status < 300) {
          res.json().then((v) => resolve(v as T), reject);
          return;
        }
        errorFrom(res).then((err) => {
          if (err.status === 401) this.#onUnauthorized?.(err);
          reject(err);
        }, reject);
      };
      xhr.onerror = () =>
        reject(new ApiError(0, `Upload to ${this.baseUrl} failed: the connection was lost.`));
      xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(form);
    });
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
