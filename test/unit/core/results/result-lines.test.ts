import { describe, expect, it } from 'vitest';
import { errorLine, expiredLine, isSuccess, responseLine } from '../../../../core/results/result-lines.js';

const body = { id: 'chatcmpl-1', object: 'chat.completion', choices: [] };

describe('result lines', () => {
  it("writes a success line in OpenAI's BatchRequestOutput shape", () => {
    const line = responseLine('batch_req_1', 'custom-1', 'req_1', 200, body);
    expect(line).toEqual({
      id: 'batch_req_1',
      custom_id: 'custom-1',
      response: { status_code: 200, request_id: 'req_1', body },
      error: null,
    });
    // Field order matters to anyone diffing against OpenAI's files.
    expect(Object.keys(line)).toEqual(['id', 'custom_id', 'response', 'error']);
    expect(Object.keys(line.response ?? {})).toEqual(['status_code', 'request_id', 'body']);
  });

  it("keeps an engine's error status and body in the response", () => {
    const errorBody = { error: { message: 'bad', type: 'invalid_request_error', param: null, code: null } };
    expect(responseLine('batch_req_2', 'c', 'req_2', 400, errorBody)).toEqual({
      id: 'batch_req_2',
      custom_id: 'c',
      response: { status_code: 400, request_id: 'req_2', body: errorBody },
      error: null,
    });
  });

  it('writes a request that got no response with a null response and an error', () => {
    expect(errorLine('batch_req_3', 'c', 'engine_unavailable', 'down')).toEqual({
      id: 'batch_req_3',
      custom_id: 'c',
      response: null,
      error: { code: 'engine_unavailable', message: 'down' },
    });
  });

  it('writes an expired request with the batch_expired code', () => {
    expect(expiredLine('batch_req_4', 'c')).toEqual({
      id: 'batch_req_4',
      custom_id: 'c',
      response: null,
      error: {
        code: 'batch_expired',
        message: 'This request could not be executed before the completion window expired.',
      },
    });
  });

  it.each([
    [200, true],
    [201, true],
    [299, true],
    [199, false],
    [300, false],
    [400, false],
    [429, false],
    [500, false],
  ])('isSuccess for status %i is %s', (status, expected) => {
    expect(isSuccess(responseLine('i', 'c', 'r', status, body))).toBe(expected);
  });

  it('isSuccess is false for a line without response', () => {
    expect(isSuccess(expiredLine('i', 'c'))).toBe(false);
  });
});
