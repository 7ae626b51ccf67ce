import * as apigw from 'aws-cdk-lib/aws-apigateway';
import {
  INTEGRATION_FAILURE_STATUS,
  integrationFailureBody,
  requestTooLargeBody,
} from '../../core/app/api-limits.js';
import { unauthorizedBody } from '../../core/app/declaration.js';

/**
 * What API Gateway answers when a request never reaches a function: always OpenAI's error
 * shape, so that the official SDK raises the same typed errors as against OpenAI.
 */
const openAIError = (message: string, type: string, code: string | null) =>
  JSON.stringify({ error: { message, type, param: null, code } });

export interface GatewayResponseSpec {
  readonly type: apigw.ResponseType;
  /** @default the status of the error the response stands for */
  readonly statusCode?: string;
  readonly body: string;
}

export const gatewayResponses: Readonly<Record<string, GatewayResponseSpec>> = {
  // The authorizer threw 'Unauthorized' (missing, malformed or unknown key): OpenAI's 401.
  Unauthorized: {
    type: apigw.ResponseType.UNAUTHORIZED,
    statusCode: '401',
    body: JSON.stringify(unauthorizedBody),
  },
  // The authorizer returned a Deny policy (a disabled key): still an invalid key to the client.
  AccessDenied: {
    type: apigw.ResponseType.ACCESS_DENIED,
    statusCode: '401',
    body: JSON.stringify(unauthorizedBody),
  },
  // API Gateway's answer for a path or method no route declares.
  UnknownRoute: {
    type: apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    statusCode: '404',
    body: openAIError('Unknown request URL.', 'invalid_request_error', 'unknown_url'),
  },
  Throttled: {
    type: apigw.ResponseType.THROTTLED,
    statusCode: '429',
    body: openAIError(
      'Rate limit reached for requests. Please try again later.',
      'requests',
      'rate_limit_exceeded',
    ),
  },
  // A body over API Gateway's 10 MB: the same 413 as the WAF rule's (core/app/api-limits.ts).
  RequestTooLarge: {
    type: apigw.ResponseType.REQUEST_TOO_LARGE,
    statusCode: '413',
    body: JSON.stringify(requestTooLargeBody),
  },
  // The function could not be invoked: a failure of Lambda's, or an event over its 6 MB payload
  // limit (a large body without Content-Length, which the WAF rule cannot size). Stays a 5xx.
  IntegrationFailure: {
    type: apigw.ResponseType.INTEGRATION_FAILURE,
    statusCode: String(INTEGRATION_FAILURE_STATUS),
    body: JSON.stringify(integrationFailureBody),
  },
  IntegrationTimeout: {
    type: apigw.ResponseType.INTEGRATION_TIMEOUT,
    statusCode: '504',
    body: openAIError('The server timed out while processing your request.', 'server_error', null),
  },
  // `$context.error.messageString` is API Gateway's message, already JSON-quoted.
  Default4xx: {
    type: apigw.ResponseType.DEFAULT_4XX,
    body: '{"error":{"message":$context.error.messageString,"type":"invalid_request_error","param":null,"code":null}}',
  },
  Default5xx: {
    type: apigw.ResponseType.DEFAULT_5XX,
    body: openAIError('The server had an error while processing your request.', 'server_error', null),
  },
};

export function addGatewayResponses(api: apigw.RestApi): void {
  for (const [id, spec] of Object.entries(gatewayResponses)) {
    api.addGatewayResponse(id, {
      type: spec.type,
      ...(spec.statusCode ? { statusCode: spec.statusCode } : {}),
      templates: { 'application/json': spec.body },
    });
  }
}
