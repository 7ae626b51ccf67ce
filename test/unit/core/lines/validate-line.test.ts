import { describe, expect, it } from 'vitest';
import { type LineRules, validateLine } from '../../../../core/lines/validate-line.js';

const CHAT: LineRules = { endpoint: '/v1/chat/completions', models: [] };

const request = (overrides: Record<string, unknown> = {}, body: Record<string, unknown> = {}) => ({
  custom_id: 'req-1',
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'llama-3', messages: [{ role: 'user', content: 'hi' }], ...body },
  ...overrides,
});

const check = (value: unknown, rules: LineRules = CHAT, line = 7) =>
  validateLine(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), line, rules);

const errorOf = (verdict: ReturnType<typeof validateLine>) => {
  if (verdict.ok) throw new Error(`expected a failure, got ${JSON.stringify(verdict)}`);
  return verdict.error;
};

describe('validateLine', () => {
  it('accepts a well-formed request and returns its custom_id and model', () => {
    expect(check(request())).toEqual({ ok: true, customId: 'req-1', model: 'llama-3' });
  });

  it('accepts a request whose model is on the allowlist', () => {
    expect(check(request(), { ...CHAT, models: ['other', 'llama-3'] })).toEqual({
      ok: true,
      customId: 'req-1',
      model: 'llama-3',
    });
  });

  it('accepts a line with CRLF-stripped bytes, surrounding whitespace and unicode content', () => {
    const line = `  ${JSON.stringify(request({}, { messages: [{ role: 'user', content: 'héllo €' }] }))}\t`;
    expect(check(line).ok).toBe(true);
  });

  it('accepts stream: false', () => {
    expect(check(request({}, { stream: false })).ok).toBe(true);
  });

  it.each([
    ['/v1/completions', { model: 'm', prompt: 'p' }],
    ['/v1/embeddings', { model: 'm', input: 'p' }],
    ['/v1/responses', { model: 'm', input: 'p' }],
  ])('accepts a request to %s when that is the batch endpoint', (url, body) => {
    expect(check({ custom_id: 'x', method: 'POST', url, body }, { endpoint: url, models: [] })).toEqual({
      ok: true,
      customId: 'x',
      model: 'm',
    });
  });

  describe('invalid_json_line', () => {
    it.each([
      ['truncated JSON', '{"custom_id": "a", '],
      ['plain text', 'hello'],
      ['empty line', ''],
      ['invalid UTF-8 that decodes to garbage', Buffer.from([0xff, 0xfe, 0x7b]).toString('latin1')],
    ])('rejects %s', (_name, text) => {
      const error = errorOf(check(text));
      expect(error).toEqual({
        code: 'invalid_json_line',
        message: expect.stringContaining('JSON'),
        param: null,
        line: 7,
      });
    });

    it.each([
      ['an array', '[1, 2]'],
      ['a string', '"text"'],
      ['a number', '42'],
      ['null', 'null'],
      ['true', 'true'],
    ])('rejects JSON that is %s, not an object', (_name, text) => {
      expect(errorOf(check(text))).toMatchObject({ code: 'invalid_json_line', param: null, line: 7 });
    });
  });

  describe('missing_required_parameter', () => {
    it.each(['custom_id', 'method', 'url', 'body'])(
      'reports a missing %s with its name as param',
      (field) => {
        const value: Record<string, unknown> = request();
        delete value[field];
        expect(errorOf(check(value))).toEqual({
          code: 'missing_required_parameter',
          message: `Missing required parameter: '${field}'.`,
          param: field,
          line: 7,
        });
      },
    );

    it.each(['custom_id', 'method', 'url', 'body'])('treats %s: null and %s: "" as missing', (field) => {
      expect(errorOf(check(request({ [field]: null })))).toMatchObject({
        code: 'missing_required_parameter',
        param: field,
      });
      expect(errorOf(check(request({ [field]: '' })))).toMatchObject({
        code: 'missing_required_parameter',
        param: field,
      });
    });

    it.each([
      ['a string', 'hello'],
      ['an array', [{ model: 'llama-3' }]],
      ['a number', 3],
    ])('refuses a body that is %s, not a JSON object', (_name, body) => {
      expect(errorOf(check(request({ body })))).toEqual({
        code: 'invalid_request',
        message: "Invalid value for 'body': expected a JSON object.",
        param: 'body',
        line: 7,
      });
    });

    it('reports the first missing field in the order custom_id, method, url, body', () => {
      expect(errorOf(check({ body: {} })).param).toBe('custom_id');
      expect(errorOf(check({ custom_id: 'a', body: {} })).param).toBe('method');
      expect(errorOf(check({ custom_id: 'a', method: 'POST' })).param).toBe('url');
    });

    it.each([
      ['absent', undefined],
      ['empty', ''],
      ['not a string', 42],
      ['null', null],
    ])('reports body.model when the model is %s', (_name, model) => {
      const value: Record<string, unknown> = request();
      value.body = { messages: [], ...(model === undefined ? {} : { model }) };
      expect(errorOf(check(value))).toEqual({
        code: 'missing_required_parameter',
        message: "Missing required parameter: 'body.model'.",
        param: 'body.model',
        line: 7,
      });
    });
  });

  describe('invalid_request', () => {
    it.each([
      ['custom_id', 42],
      ['method', 1],
      ['url', true],
      ['body', 'a string'],
      ['body', [1, 2]],
    ])('rejects %s of the wrong type (%j) with that field as param', (field, value) => {
      expect(errorOf(check(request({ [field]: value })))).toMatchObject({
        code: 'invalid_request',
        param: field,
        line: 7,
      });
    });

    it.each(['GET', 'PUT', 'post'])('rejects method %s: only POST is supported', (method) => {
      expect(errorOf(check(request({ method })))).toEqual({
        code: 'invalid_request',
        message: expect.stringContaining(`'${method}'`),
        param: 'method',
        line: 7,
      });
    });
  });

  describe('invalid_url', () => {
    it.each([
      '/v1/images/generations',
      '/v1/chat/completions/',
      'https://api.openai.com/v1/chat/completions',
    ])('rejects the unsupported url %s', (url) => {
      expect(errorOf(check(request({ url })))).toEqual({
        code: 'invalid_url',
        message: expect.stringContaining('not a supported batch endpoint'),
        param: 'url',
        line: 7,
      });
    });

    it("rejects a supported url that differs from the batch's endpoint", () => {
      const error = errorOf(check(request({ url: '/v1/embeddings' }, { input: 'x' })));
      expect(error).toEqual({
        code: 'invalid_url',
        message: expect.stringContaining("does not match the batch's endpoint '/v1/chat/completions'"),
        param: 'url',
        line: 7,
      });
    });
  });

  it('rejects stream: true with streaming_unsupported', () => {
    expect(errorOf(check(request({}, { stream: true })))).toEqual({
      code: 'streaming_unsupported',
      message: 'Streaming is not supported in batch requests.',
      param: 'body.stream',
      line: 7,
    });
  });

  it('rejects a model outside the allowlist with model_not_found', () => {
    expect(errorOf(check(request({}, { model: 'gpt-4o' }), { ...CHAT, models: ['llama-3'] }))).toEqual({
      code: 'model_not_found',
      message: expect.stringContaining("'gpt-4o'"),
      param: 'body.model',
      line: 7,
    });
  });

  it('accepts any model when the allowlist is empty', () => {
    expect(check(request({}, { model: 'anything-at-all' }), CHAT)).toMatchObject({ ok: true });
  });

  it('reports the line number it was given', () => {
    expect(errorOf(check('nope', CHAT, 12_345)).line).toBe(12_345);
  });
});

describe('validateLine on bytes that are not UTF-8', () => {
  it('refuses the line rather than decode it into something else', () => {
    const line = Buffer.concat([
      Buffer.from('{"custom_id":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}'),
    ]);
    expect(validateLine(line, 7, { endpoint: '/v1/chat/completions', models: [] })).toEqual({
      ok: false,
      error: { code: 'invalid_json_line', message: 'This line is not valid UTF-8.', param: null, line: 7 },
    });
  });
});
