import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../core/config.js';
import {
  ApiError,
  BadRequestError,
  ConflictError,
  NotFoundError,
  OpenBatchError,
  PayloadTooLargeError,
  toErrorResponse,
  UnauthorizedError,
} from '../../../core/errors.js';

const GENERIC_500 = {
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

describe('ApiError subclasses', () => {
  it.each([
    [
      new BadRequestError('bad', 'endpoint', 'some_code'),
      400,
      'invalid_request_error',
      'endpoint',
      'some_code',
    ],
    [new BadRequestError('bad'), 400, 'invalid_request_error', null, null],
    [new UnauthorizedError(), 401, 'invalid_request_error', null, 'invalid_api_key'],
    [new NotFoundError('missing', 'batch_id'), 404, 'invalid_request_error', 'batch_id', null],
    [new ConflictError('nope'), 409, 'invalid_request_error', null, null],
    [new PayloadTooLargeError('big', 'file'), 413, 'invalid_request_error', 'file', 'file_too_large'],
  ])('%s renders status %i, type %s, param %s, code %s', (err, status, type, param, code) => {
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(OpenBatchError);
    expect(err).toBeInstanceOf(Error);
    expect(toErrorResponse(err)).toEqual({
      status,
      body: { error: { message: err.message, type, param, code } },
    });
  });

  it('names each error after its class', () => {
    expect(new NotFoundError('x').name).toBe('NotFoundError');
    expect(new PayloadTooLargeError('x').name).toBe('PayloadTooLargeError');
    expect(new ApiError(418, 'x', 't').name).toBe('ApiError');
  });

  it('gives UnauthorizedError a default message', () => {
    expect(new UnauthorizedError().message).toBe('Incorrect API key provided.');
  });

  it('renders a custom ApiError as given', () => {
    const err = new ApiError(429, 'slow down', 'rate_limit_error', null, 'rate_limit_exceeded');
    expect(err.toBody()).toEqual({
      error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
    });
    expect(toErrorResponse(err).status).toBe(429);
  });
});

describe('toErrorResponse', () => {
  const secret = 'arn:aws:dynamodb:us-east-1:123456789012:table/openbatch-prod-batches';

  it.each<[string, unknown]>([
    ['an Error', new Error(`AccessDenied on ${secret}`)],
    ['a TypeError', new TypeError(`Cannot read properties of undefined (reading '${secret}')`)],
    ['an OpenBatchError that is not an ApiError', new OpenBatchError(secret)],
    ['a ConfigError', new ConfigError(`Invalid configuration: ${secret}`)],
    [
      'an AWS-like error with a statusCode',
      Object.assign(new Error(secret), { statusCode: 400, $fault: 'client' }),
    ],
    ['a thrown string', secret],
    ['null', null],
    ['undefined', undefined],
    ['a plain object shaped like an ApiError', { status: 400, message: secret, toBody: () => ({}) }],
  ])('renders %s as a generic 500 without its message', (_name, thrown) => {
    const response = toErrorResponse(thrown);
    expect(response).toEqual(GENERIC_500);
    expect(JSON.stringify(response)).not.toContain('123456789012');
  });
});
