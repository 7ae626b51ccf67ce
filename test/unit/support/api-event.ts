import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

/**
 * REST API (v1) Lambda proxy events as API Gateway delivers them after the TOKEN authorizer,
 * the same shape the local gateway (localstack/runtime/gateway.ts, toEvent) builds.
 */
export function apiEvent(opts: {
  method: 'GET' | 'POST' | 'DELETE';
  /** Concrete path, e.g. /v1/batches/batch_1. */
  path: string;
  /** Route template, e.g. /v1/batches/{batch_id}. */
  resource?: string;
  pathParameters?: Record<string, string> | null;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | null;
  isBase64Encoded?: boolean;
  /** The tenant the authorizer resolved; null for an event that bypassed it. */
  tenant?: string | null;
}): APIGatewayProxyEvent {
  const tenant = opts.tenant === undefined ? 'acme' : opts.tenant;
  const headers = opts.headers ?? {};
  const query = opts.query && Object.keys(opts.query).length > 0 ? opts.query : null;
  return {
    resource: opts.resource ?? opts.path,
    path: opts.path,
    httpMethod: opts.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: query,
    multiValueQueryStringParameters: query
      ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: opts.pathParameters ?? null,
    stageVariables: null,
    body: opts.body ?? null,
    isBase64Encoded: opts.isBase64Encoded ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'unit',
      authorizer: tenant === null ? null : { tenant, principalId: tenant },
      httpMethod: opts.method,
      path: opts.path,
      protocol: 'HTTP/1.1',
      requestId: 'req-unit',
      requestTimeEpoch: 0,
      resourceId: 'unit',
      resourcePath: opts.resource ?? opts.path,
      stage: 'unit',
      identity: { sourceIp: '127.0.0.1' },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export const jsonEvent = (method: 'POST', path: string, body: unknown, tenant?: string | null) =>
  apiEvent({
    method,
    path,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(tenant === undefined ? {} : { tenant }),
  });

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'unit',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:unit',
  memoryLimitInMB: '512',
  awsRequestId: 'unit-request',
  logGroupName: '/aws/lambda/unit',
  logStreamName: 'unit',
  getRemainingTimeInMillis: () => 29_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

/** A multipart/form-data body as the OpenAI SDK sends it, base64-encoded as API Gateway delivers binary media. */
export function multipartEvent(
  parts: { name: string; value: string | Buffer; filename?: string; contentType?: string }[],
  opts: { boundary?: string; headerName?: string; tenant?: string } = {},
): APIGatewayProxyEvent {
  const boundary = opts.boundary ?? '----openbatch-unit-boundary';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    const head =
      `--${boundary}\r\nContent-Disposition: ${disposition}\r\n` +
      (p.contentType ? `Content-Type: ${p.contentType}\r\n` : '') +
      '\r\n';
    chunks.push(
      Buffer.from(head),
      Buffer.isBuffer(p.value) ? p.value : Buffer.from(p.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return apiEvent({
    method: 'POST',
    path: '/v1/files',
    headers: { [opts.headerName ?? 'Content-Type']: `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(chunks).toString('base64'),
    isBase64Encoded: true,
    ...(opts.tenant === undefined ? {} : { tenant: opts.tenant }),
  });
}

/** The parsed JSON body of a handler result. */
export const bodyOf = <T = Record<string, unknown>>(result: APIGatewayProxyResult): T =>
  JSON.parse(result.body) as T;
