/**
 * The error tree. API errors carry their HTTP status and render OpenAI's error body; anything
 * else reaching the edge becomes a generic 500 so internals never leak to clients.
 */

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class OpenBatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ApiError extends OpenBatchError {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export class BadRequestError extends ApiError {
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(400, message, 'invalid_request_error', param, code);
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message = 'Incorrect API key provided.') {
    super(401, message, 'invalid_request_error', null, 'invalid_api_key');
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(404, message, 'invalid_request_error', param, null);
  }
}

export class ConflictError extends ApiError {
  constructor(message: string) {
    super(409, message, 'invalid_request_error', null, null);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(message: string, param: string | null = null) {
    super(413, message, 'invalid_request_error', param, 'file_too_large');
  }
}

/** Renders any thrown value as an OpenAI error response: status and body. */
export function toErrorResponse(err: unknown): { status: number; body: OpenAIErrorBody } {
  if (err instanceof ApiError) return { status: err.status, body: err.toBody() };
  return {
    status: 500,
    body: {
      error: {
        message: 'The server had an error while processing your request.',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
  };
}
