/** An OpenAI-compatible inference engine: POST a request body to an API path, get status and JSON back. */
export interface EngineResponse {
  status: number;
  body: unknown;
}

export interface Engine {
  readonly name: string;
  send(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<EngineResponse>;
  /** Lets go of the engine's connections, if it holds any. */
  close?(): Promise<void>;
}

/** 429, 5xx and 408 are worth another try; other statuses are the request's own fault. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500;
