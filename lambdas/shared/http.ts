import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { ApiError, BadRequestError, NotFoundError, toErrorResponse } from '../../core/errors.js';
import { log } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { inRequestSpan, startTracing } from '../../core/observability/tracing.js';
import { idSchema } from '../../core/openai/schemas.js';
import { withInvocation } from './invocation.js';

export type HttpEvent = APIGatewayProxyEvent;
export type HttpResult = APIGatewayProxyResult;
export type HttpRoute = Route<HttpEvent, HttpResult>;

export const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * A download: a 302 to a pre-signed URL for a large object, or its bytes in base64, so they
 * arrive exactly as stored, UTF-8 or not (BINARY_MEDIA_TYPES). `headers` go on either answer.
 */
export function download(
  content: { inline: Buffer } | { redirect: string },
  headers: Record<string, string>,
): HttpResult {
  if ('redirect' in content)
    return { statusCode: 302, headers: { ...headers, location: content.redirect }, body: '' };
  return {
    statusCode: 200,
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: content.inline.toString('base64'),
    isBase64Encoded: true,
  };
}

/** The tenant the authorizer resolved from the API key; every query is scoped by it. */
export function tenantOf(event: HttpEvent): string {
  const tenant = event.requestContext?.authorizer?.tenant;
  if (typeof tenant !== 'string' || tenant.length === 0)
    throw new Error('Request reached a handler without a tenant');
  return tenant;
}

export function pathParam(event: HttpEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new BadRequestError(`Missing path parameter '${name}'.`, name);
  try {
    return decodeURIComponent(value);
  } catch {
    throw new BadRequestError(`Invalid path parameter '${name}': it is not valid percent-encoding.`, name);
  }
}

/**
 * An object id from the path, checked against the id pattern (`idSchema`): a malformed id (too
 * long, a slash, `..`, anything but letters, digits, `_` and `-`) is a 400 naming the
 * parameter; a well-formed id that names nothing of the caller's is the service's 404.
 */
export function pathId(event: HttpEvent, name: string): string {
  const id = pathParam(event, name);
  const parsed = idSchema.safeParse(id);
  if (!parsed.success)
    throw new BadRequestError(`Invalid '${name}': ${parsed.error.issues[0]?.message}.`, name, 'invalid_id');
  return parsed.data;
}

/** Validates input against a schema, reporting the first problem the way OpenAI does. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    // Keys are the caller's: clipped, so a huge one cannot swell the answer.
    const key = [...issue.path, issue.keys[0]].join('.').slice(0, 100);
    throw new BadRequestError(`Unrecognized request argument supplied: ${key}`, key);
  }
  const param = issue?.path.join('.') || null;
  throw new BadRequestError(
    param ? `Invalid value for '${param}': ${issue?.message}` : (issue?.message ?? 'Invalid request'),
    param,
  );
}

const header = (event: HttpEvent, name: string): string | undefined => {
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === name) return v ?? undefined;
  return undefined;
};

/** JSON, or none said (a JSON body sent without a content type is still read as JSON). */
const isJsonContentType = (ct: string | undefined) =>
  ct === undefined || /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(ct.trim());

/** The request body as a JSON object (every JSON body of this API is one). */
export function jsonBody(event: HttpEvent): Record<string, unknown> {
  const contentType = header(event, 'content-type');
  if (!isJsonContentType(contentType)) {
    throw new ApiError(
      415,
      `Unsupported Content-Type '${contentType?.slice(0, 100)}': send a JSON body with Content-Type: application/json.`,
      'invalid_request_error',
      null,
      'unsupported_media_type',
    );
  }
  if (!event.body) throw new BadRequestError('A JSON request body is required.');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestError('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BadRequestError('The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

/** Renders errors in OpenAI's shape; a 5xx never carries internal detail. */
const openAIErrors = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: async (request) => {
    let err: unknown = request.error;
    const status = (err as { statusCode?: number } | null)?.statusCode;
    if (!(err instanceof ApiError) && status === 404) err = new NotFoundError('Unknown request URL.');
    const { status: statusCode, body } = toErrorResponse(err);
    if (statusCode >= 500) log.error('request failed', { err: request.error });
    request.response = json(statusCode, body);
  },
});

/** Origins allowed to call the API from a browser (the portal's), comma-separated; unset: none. */
const allowedOrigins = (process.env.ALLOWED_ORIGINS ?? '')
  .split(',')
  .map((o) => o.trim())
  .filter(Boolean);

// X-Ray spans annotated with the tenant and batch when OPENBATCH_TRACING=xray (core/observability/tracing.ts).
startTracing(process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'api');

/** The route API Gateway matched: the method and the resource template (`GET /v1/batches/{batch_id}`). */
export const routeOf = (event: HttpEvent): string =>
  `${event.httpMethod} ${event.resource ?? event.requestContext?.resourcePath ?? 'unknown'}`;

/**
 * An API function: routes from the declaration's paths, OpenAI error rendering, CORS for the
 * portal. Each request logs under its context (function, AWS request id, cold start, route,
 * tenant, batch id) and ends with one access line and one EMF flush: `ApiRequests` and
 * `ApiLatency` by route and status.
 */
export function httpApi(routes: HttpRoute[]) {
  const inner = middy<HttpEvent, HttpResult, Error, Context>()
    .use(
      httpCors({
        origins: allowedOrigins,
        headers: 'authorization,content-type',
        exposeHeaders: 'location,openbatch-partial,openbatch-chunks-done,openbatch-next-chunk',
      }),
    )
    .use(openAIErrors())
    .handler(httpRouterHandler(routes) as unknown as (e: HttpEvent, c: Context) => Promise<HttpResult>);
  return (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const started = performance.now();
    const route = routeOf(event);
    const tenant = event.requestContext?.authorizer?.tenant;
    return withInvocation(
      context,
      {
        route,
        ...(typeof tenant === 'string' ? { tenant } : {}),
        ...(event.pathParameters?.batch_id ? { batchId: event.pathParameters.batch_id } : {}),
      },
      async () => {
        let status = 500;
        try {
          const result = await inRequestSpan(
            route,
            {
              tenant: typeof tenant === 'string' ? tenant : undefined,
              batchId: event.pathParameters?.batch_id,
            },
            () => inner(event, context),
          );
          status = result.statusCode;
          return result;
        } finally {
          const ms = performance.now() - started;
          log.info('request', { status, ms: Math.round(ms) });
          await emitMetrics(
            { Function: 'api', Route: route, Status: String(status) },
            { ApiRequests: 1, ApiLatency: { value: ms, unit: 'Milliseconds' } },
          );
        }
      },
    );
  };
}
