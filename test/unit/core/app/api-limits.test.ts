import { describe, expect, it } from 'vitest';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  base64Length,
  contentLengthTooLargeRegex,
  decimalAboveRegex,
  EVENT_ALLOWANCE_BYTES,
  INTEGRATION_FAILURE_STATUS,
  integrationFailureBody,
  LAMBDA_MAX_EVENT_BYTES,
  MAX_REQUEST_BODY_BYTES,
  requestTooLargeBody,
} from '../../../../core/app/api-limits.js';
import { limitsSchema } from '../../../../core/config.js';

const MAX_API_UPLOAD_BYTES_DEFAULT = limitsSchema.parse({}).MAX_API_UPLOAD_BYTES;

describe('the numbers', () => {
  it('are API Gateway’s 10 MB and Lambda’s 6 MB, in bytes', () => {
    expect(API_GATEWAY_MAX_BODY_BYTES).toBe(10_485_760);
    expect(LAMBDA_MAX_EVENT_BYTES).toBe(6_291_456);
  });

  it('base64-encode as Buffer does', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 1000, 4_599_999, 4_600_000, 4_600_001])
      expect(base64Length(n)).toBe(Buffer.alloc(n).toString('base64').length);
  });

  it('leave the rest of the event 158,120 bytes beside the largest body that passes, base64-encoded', () => {
    expect(base64Length(MAX_REQUEST_BODY_BYTES)).toBe(6_133_336);
    expect(EVENT_ALLOWANCE_BYTES).toBe(6_291_456 - 6_133_336);
    expect(EVENT_ALLOWANCE_BYTES).toBe(158_120);
  });

  it('sit between the function’s own limit and API Gateway’s', () => {
    expect(MAX_REQUEST_BODY_BYTES).toBeGreaterThan(MAX_API_UPLOAD_BYTES_DEFAULT);
    expect(MAX_REQUEST_BODY_BYTES).toBeLessThan(API_GATEWAY_MAX_BODY_BYTES);
  });

  it('fit the largest body that passes into Lambda with 70 KB of headers; 100 KB more would not fit', () => {
    const extraHeader = 'x'.repeat(70_000);
    const size = (bodyBytes: number) =>
      Buffer.byteLength(JSON.stringify(proxyEvent(Buffer.alloc(bodyBytes, 0xff), extraHeader)));
    expect(size(MAX_REQUEST_BODY_BYTES)).toBeLessThan(LAMBDA_MAX_EVENT_BYTES);
    expect(size(MAX_REQUEST_BODY_BYTES + 100_000)).toBeGreaterThanOrEqual(LAMBDA_MAX_EVENT_BYTES);
    // An ordinary SDK upload's event takes a few KB beside its body.
    const ordinary =
      Buffer.byteLength(JSON.stringify(proxyEvent(Buffer.alloc(MAX_REQUEST_BODY_BYTES), ''))) -
      base64Length(MAX_REQUEST_BODY_BYTES);
    expect(ordinary).toBeLessThan(5_000);
  });
});

describe('the error bodies', () => {
  it('answer too large requests in OpenAI’s shape, pointing at the Uploads API and its pre-signed parts', () => {
    expect(Object.keys(requestTooLargeBody.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(requestTooLargeBody.error).toMatchObject({
      type: 'invalid_request_error',
      param: null,
      code: 'request_too_large',
    });
    expect(requestTooLargeBody.error.message).toContain('/v1/uploads');
    expect(requestTooLargeBody.error.message).toContain('pre-signed');
    expect(requestTooLargeBody.error.message).toContain('4,600,000 bytes');
    // WAF custom response bodies take at most 10,240 characters.
    expect(JSON.stringify(requestTooLargeBody).length).toBeLessThan(10_240);
  });

  it('answer an integration failure with a 5xx server_error naming the payload limit as a likely cause', () => {
    expect(INTEGRATION_FAILURE_STATUS).toBeGreaterThanOrEqual(500);
    expect(integrationFailureBody.error).toMatchObject({ type: 'server_error', param: null, code: null });
    expect(integrationFailureBody.error.message).toMatch(/6 MB payload limit/);
    expect(integrationFailureBody.error.message).toContain('/v1/uploads');
  });
});

describe('decimalAboveRegex', () => {
  const above = (threshold: number) => {
    const re = new RegExp(decimalAboveRegex(threshold));
    return (s: string) => re.test(s);
  };
  const isAbove = (s: string, threshold: number) => /^[0-9]+$/.test(s) && BigInt(s) > BigInt(threshold);

  it.each([0, 1, 8, 9, 10, 19, 90, 99, 100, 101, 999, 1000, 4_600_000, 4_599_999, 10_485_760, 99_999_999])(
    'matches exactly the numbers above %i, around the boundary and from 0 to 20,000',
    (threshold) => {
      const test = above(threshold);
      const check = (n: number) => expect(test(String(n)), `${n} vs ${threshold}`).toBe(n > threshold);
      for (let n = Math.max(0, threshold - 10_000); n <= threshold + 10_000; n++) check(n);
      for (let n = 0; n <= 20_000; n++) check(n);
      for (let e = 0; e <= 18; e++) {
        const p = 10n ** BigInt(e);
        for (const v of [p - 1n, p, p + 1n])
          if (v >= 0n) expect(test(String(v)), `${v}`).toBe(v > BigInt(threshold));
      }
    },
  );

  it('agrees with integer comparison on 20,000 random values, thresholds and leading zeros', () => {
    const random = mulberry32(0x5eed);
    const int = (max: number) => Math.floor(random() * max);
    for (let i = 0; i < 200; i++) {
      const threshold = int(10 ** (1 + int(12)));
      const test = above(threshold);
      for (let j = 0; j < 100; j++) {
        const digits = 1 + int(16);
        let s = String(1 + int(9));
        for (let d = 1; d < digits; d++) s += String(int(10));
        if (random() < 0.2) s = '0'.repeat(1 + int(4)) + s;
        if (random() < 0.1) s = String(Math.max(0, threshold + int(3) - 1));
        expect(test(s), `${s} vs ${threshold}`).toBe(isAbove(s, threshold));
      }
    }
  });

  it('ignores leading zeros and matches nothing but digits', () => {
    const test = above(MAX_REQUEST_BODY_BYTES);
    expect(test('0004600001')).toBe(true);
    expect(test('04600000')).toBe(false);
    expect(test('0000000000000')).toBe(false);
    expect(test('00000000000001')).toBe(false);
    for (const s of [
      '',
      ' ',
      '0',
      '+4600001',
      '-4600001',
      '4600001.0',
      '4.6e6',
      '4.6e7',
      '0x500000',
      '4600001 ',
      ' 4600001',
      '4600001\n',
      '46000O1',
      '٤٦٠٠٠٠١',
      '4600001,4600001',
      'abc',
    ])
      expect(test(s), JSON.stringify(s)).toBe(false);
    expect(test('4600001')).toBe(true);
    expect(test('4600000')).toBe(false);
    expect(test('99999999999999999999')).toBe(true);
  });

  it('is the rule’s regex for the body threshold, short and within what AWS WAF accepts', () => {
    expect(contentLengthTooLargeRegex).toBe(decimalAboveRegex(MAX_REQUEST_BODY_BYTES));
    expect(contentLengthTooLargeRegex).toBe(
      '^0*(?:[1-9][0-9]{7,}|[5-9][0-9]{6}|4[7-9][0-9]{5}|46[1-9][0-9]{4}|460[1-9][0-9]{3}|4600[1-9][0-9]{2}|46000[1-9][0-9]|460000[1-9])$',
    );
    for (const t of [0, 9, 4_600_000, Number.MAX_SAFE_INTEGER]) {
      const re = decimalAboveRegex(t);
      // RegexString takes at most 512 characters; WAF refuses capturing groups and backreferences.
      expect(re.length).toBeLessThanOrEqual(512);
      expect(re).not.toMatch(/\((?!\?:)/);
      expect(re).not.toMatch(/\\[1-9]/);
      expect(re.split('|').length).toBeLessThanOrEqual(String(t).length + 1);
    }
  });

  it('refuses a threshold that is not a non-negative safe integer', () => {
    for (const t of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])
      expect(() => decimalAboveRegex(t)).toThrow(/non-negative safe integer/);
  });
});

/** A REST API proxy event as API Gateway sends it for an SDK upload (multipart, base64-encoded). */
function proxyEvent(body: Buffer, extraHeader: string) {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'Accept-Encoding': 'gzip, deflate',
    Authorization: `Bearer sk-${'a'.repeat(48)}`,
    'CloudFront-Forwarded-Proto': 'https',
    'Content-Length': String(body.length),
    'Content-Type': 'multipart/form-data; boundary=----formdata-undici-012345678901',
    Host: 'abcdefghij.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'OpenAI/JS 6.49.0',
    'X-Amzn-Trace-Id': 'Root=1-67891233-abcdef012345678912345678',
    'X-Forwarded-For': '203.0.113.10',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    'x-stainless-arch': 'x64',
    'x-stainless-lang': 'js',
    'x-stainless-os': 'Linux',
    'x-stainless-package-version': '6.49.0',
    'x-stainless-retry-count': '0',
    'x-stainless-runtime': 'node',
    'x-stainless-runtime-version': 'v20.20.2',
    'x-stainless-timeout': '600',
    ...(extraHeader ? { 'X-Extra': extraHeader } : {}),
  };
  return {
    resource: '/v1/files',
    path: '/v1/files',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      resourceId: 'abc123',
      authorizer: { principalId: 'tenant-a', tenant: 'tenant-a', integrationLatency: 12 },
      resourcePath: '/v1/files',
      httpMethod: 'POST',
      extendedRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTime: '09/Apr/2025:12:34:56 +0000',
      path: '/prod/v1/files',
      accountId: '123456789012',
      protocol: 'HTTP/1.1',
      stage: 'prod',
      domainPrefix: 'abcdefghij',
      requestTimeEpoch: 1744202096000,
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      identity: {
        cognitoIdentityPoolId: null,
        accountId: null,
        cognitoIdentityId: null,
        caller: null,
        sourceIp: '203.0.113.10',
        principalOrgId: null,
        accessKey: null,
        cognitoAuthenticationType: null,
        cognitoAuthenticationProvider: null,
        userArn: null,
        userAgent: 'OpenAI/JS 6.49.0',
        user: null,
      },
      domainName: 'abcdefghij.execute-api.us-east-1.amazonaws.com',
      deploymentId: 'abcdef',
      apiId: 'abcdefghij',
    },
    body: body.toString('base64'),
    isBase64Encoded: true,
  };
}

/** A small seeded PRNG, so that the random cases are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
