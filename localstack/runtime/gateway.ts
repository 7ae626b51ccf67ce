import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  BINARY_MEDIA_TYPES,
  contentLengthTooLargeRegex,
  INTEGRATION_FAILURE_STATUS,
  integrationFailureBody,
  LAMBDA_MAX_EVENT_BYTES,
  requestTooLargeBody,
} from '../../core/app/api-limits.js';
import { unauthorizedBody } from '../../core/app/declaration.js';
import { log } from '../../core/observability/log.js';
import type { LoadedFunction } from './functions.js';
import { lambdaContext } from './lambda-context.js';
import { localMetrics } from './local-metrics.js';

/** The WAF rule's test of the content-length header (cdk/lib/constructs/body-size-guard.ts). */
const contentLengthTooLarge = new RegExp(contentLengthTooLargeRegex);

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  fn: LoadedFunction;
}

export interface GatewayOptions {
  functions: Map<string, LoadedFunction>;
  /** Extra handlers tried before the API routes (health, portal). Return true when handled. */
  before?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /**
   * Play the WAF body-size guard the CDK app puts on the stage (`api.bodySizeGuard`): a
   * Content-Length above MAX_REQUEST_BODY_BYTES is refused with OpenAI's 413. Turn it off to
   * behave as an environment deployed without it. @default true
   */
  bodySizeGuard?: boolean;
}

/** Compiles `/v1/files/{file_id}` into a matcher with named groups. */
export const compileTemplate = (template: string): RegExp =>
  new RegExp(`^${template.replace(/\{([^}/+]+)\}/g, '(?<$1>[^/]+)')}/?$`);

/**
 * A local stand-in for API Gateway (REST API): routes from the declaration, the TOKEN authorizer
 * run first, Lambda proxy events in and out. The handlers cannot tell it from AWS.
 *
 * It is never more forgiving than AWS about size (core/app/api-limits.ts), in AWS's order: the
 * WAF rule on Content-Length (when the guard is on), API Gateway's 10 MB on the body read, then
 * Lambda's 6 MB on the serialized event, so a request without Content-Length (chunked) that
 * passes the first two fails as it would on AWS: INTEGRATION_FAILURE in OpenAI's shape.
 */
export function createGateway(opts: GatewayOptions): Server {
  const routes: Route[] = [];
  let authorizer: LoadedFunction | undefined;
  for (const fn of opts.functions.values()) {
    for (const t of fn.decl.triggers) {
      if (t.kind === 'http')
        routes.push({ method: t.method, template: t.path, pattern: compileTemplate(t.path), fn });
      if (t.kind === 'authorizer') authorizer = fn;
    }
  }

  const guarded = opts.bodySizeGuard ?? true;
  return createServer(async (req, res) => {
    try {
      // What CloudWatch gets as EMF on AWS, in Prometheus' text format (local-metrics.ts).
      if (req.method === 'GET' && new URL(req.url ?? '/', 'http://localhost').pathname === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(localMetrics.render());
        return;
      }
      if (opts.before && (await opts.before(req, res))) return;
      // AWS WAF inspects the request before API Gateway does anything with it.
      const contentLength = header(req, 'content-length');
      if (guarded && contentLength !== undefined && contentLengthTooLarge.test(contentLength)) {
        await drain(req);
        return send(res, 413, requestTooLargeBody);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const matches = routes.filter((r) => r.pattern.test(url.pathname));
      const route = matches.find((r) => r.method === req.method);
      if (!route) {
        if (matches.length > 0) res.setHeader('allow', [...new Set(matches.map((r) => r.method))].join(', '));
        const status = matches.length > 0 ? 405 : 404;
        return send(res, status, {
          error: {
            message: `Unknown request URL: ${req.method} ${url.pathname}`,
            type: 'invalid_request_error',
            param: null,
            code: 'unknown_url',
          },
        });
      }
      const body = await readBody(req, API_GATEWAY_MAX_BODY_BYTES);
      if (body === undefined) return send(res, 413, requestTooLargeBody);

      const token = header(req, 'authorization');
      if (!token || !authorizer) return send(res, 401, unauthorizedBody);
      let tenant: string;
      try {
        const policy = await authorizer.handler(
          {
            type: 'TOKEN',
            authorizationToken: token,
            methodArn: `arn:aws:execute-api:local:000000000000:local/local/${req.method}${url.pathname}`,
          },
          lambdaContext(authorizer.name, authorizer.decl.timeoutSeconds),
        );
        tenant = policy.context.tenant;
      } catch (err) {
        if ((err as Error).message === 'Unauthorized') return send(res, 401, unauthorizedBody);
        throw err;
      }

      const event = toEvent(req, url, route, body, tenant);
      // Lambda refuses a synchronous invocation whose payload is not smaller than its limit.
      if (Buffer.byteLength(JSON.stringify(event)) >= LAMBDA_MAX_EVENT_BYTES) {
        log.warn('gateway: event over Lambda payload limit', { function: route.fn.name });
        return send(res, INTEGRATION_FAILURE_STATUS, integrationFailureBody);
      }
      const result = (await route.fn.handler(
        event,
        lambdaContext(route.fn.name, route.fn.decl.timeoutSeconds),
      )) as APIGatewayProxyResult;
      res.writeHead(result.statusCode, stringHeaders(result.headers));
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } catch (err) {
      log.error('gateway error', { err });
      send(res, 502, {
        error: { message: 'Internal server error', type: 'server_error', param: null, code: null },
      });
    }
  });
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  route: Route,
  body: Buffer,
  tenant: string,
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    headers[k] = values.join(',');
    multiValueHeaders[k] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }
  const params = route.pattern.exec(url.pathname)?.groups ?? null;
  // The API's binary media types are every type (BINARY_MEDIA_TYPES): bodies arrive
  // base64-encoded, as API Gateway delivers them.
  const binary =
    BINARY_MEDIA_TYPES.includes('*/*') ||
    BINARY_MEDIA_TYPES.some((t) => (headers['content-type'] ?? '').startsWith(t));
  return {
    resource: route.template,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
    pathParameters: params ? { ...params } : null,
    stageVariables: null,
    body: body.length === 0 ? null : body.toString(binary ? 'base64' : 'utf8'),
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: { tenant, principalId: tenant },
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: route.template,
      stage: 'local',
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/**
 * The body, or undefined when it is larger than `limit`. The rest of an oversized body is read
 * and dropped rather than the socket destroyed, so that the client reads the 413.
 */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= limit) parts.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(parts);
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // dropped
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const stringHeaders = (h: APIGatewayProxyResult['headers']): Record<string, string> =>
  Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k, String(v)]));

export function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
