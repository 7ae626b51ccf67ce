/** The openbatch extensions beside OpenAI's Uploads API, over fetch (the SDK does not know them). */

export interface PartUrl {
  part_number: number;
  url: string;
  /** Unix seconds. */
  expires_at: number;
}

export interface UploadStatus {
  id: string;
  object: 'upload';
  bytes: number;
  status: 'pending' | 'completed' | 'cancelled' | 'expired';
  expires_at: number;
  openbatch: {
    mode: 'presigned' | 'api_parts';
    parts: { part_number?: number; id?: string; bytes: number }[];
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class Extensions {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  /** Pre-signed S3 part URLs; a number asked again gets a fresh URL. */
  async partUrls(uploadId: string, partNumbers: readonly number[], signal?: AbortSignal): Promise<PartUrl[]> {
    const body = await this.call<{ data: PartUrl[] }>(
      'POST',
      `/openbatch/uploads/${encodeURIComponent(uploadId)}/part_urls`,
      { part_numbers: partNumbers },
      signal,
    );
    return body.data;
  }

  /** The upload and the parts it already holds; undefined when the server does not know it. */
  async status(uploadId: string, signal?: AbortSignal): Promise<UploadStatus | undefined> {
    try {
      return await this.call<UploadStatus>(
        'GET',
        `/openbatch/uploads/${encodeURIComponent(uploadId)}`,
        undefined,
        signal,
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  private async call<T>(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const err = (json as { error?: { message?: string; code?: string | null } } | undefined)?.error;
      throw new ApiError(
        res.status,
        `${method} ${path}: ${res.status} ${err?.message ?? text.slice(0, 300)}`,
        err?.code ?? null,
      );
    }
    return json as T;
  }
}
