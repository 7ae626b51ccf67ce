import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { ApiError, BadRequestError, NotFoundError, toErrorResponse } from '../../core/errors.js';
import { log } from '../../core/observability/log.js';

export type HttpEvent = APIGatewayProxyEvent;
export type HttpResult = APIGatewayProxyResult;
export type HttpRoute = Route<HttpEvent, HttpResult>;

export const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

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
    throw new BadRequestError(`Invalid path parameter '${name}'.`, name);
  }
}

/** Validates input against a schema, reporting the first problem the way OpenAI does. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join('.') || null;
  throw new BadRequestError(
    param ? `Invalid value for '${param}': ${issue?.message}` : (issue?.message ?? 'Invalid request'),
    param,
  );
}

export function jsonBody(event: HttpEvent): unknown {
  if (!event.body) throw new BadRequestError('A JSON request body is required.');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('The request body is not valid JSON.');
  }
}

/** Renders errors in OpenAI's shape; a 5xx never carries internal detail. */
const openAIErrors = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: async (request) => {
    let err: unknown = request.error;
    const status = (err as { statusCode?: number } | null)?.statusCode;
    if (!(err instanceof ApiError) && status === 404) err = new NotFoundError('Unknown request URL.');
    const { status: statusCode, body } = toErrorResponse(err);
    if (statusCode >= 500) log.error('request failed', { err: request.error, path: request.event.path });
    request.response = json(statusCode, body);
  },
});

/** Origins allowed to call the API from a browser (the portal's), comma-separated; unset: none. */
const allowedOrigins = (process.env.ALLOWED_ORIGINS ?? '')
  .split(',')
  .map((o) => o.trim())
  .filter(Boolean);

/** An API function: routes from the declaration's paths, OpenAI error rendering, CORS for the portal. */
export function httpApi(routes: HttpRoute[]) {
  return middy<HttpEvent, HttpResult, Error, Context>()
    .use(
      httpCors({ origins: allowedOrigins, headers: 'authorization,content-type', exposeHeaders: 'location' }),
    )
    .use(openAIErrors())
    .handler(httpRouterHandler(routes) as unknown as (e: HttpEvent, c: Context) => Promise<HttpResult>);
}
