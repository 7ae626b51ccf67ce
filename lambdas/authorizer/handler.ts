import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { getDeps } from '../../core/app/deps.js';
import { resolveTenant } from './resolve-tenant.js';

/**
 * API Gateway TOKEN authorizer. API Gateway caches the answer per key; this container caches
 * too, so a key costs one DynamoDB read per container and cache period.
 */
export async function handler(event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const tenant = await resolveTenant(getDeps('authorizer').apiKeys, event.authorizationToken);
  // API Gateway answers 401 (with OpenAI's error body, from the gateway response) for this exact message.
  if (!tenant) throw new Error('Unauthorized');
  // Allow every method of this API: the answer is cached per key, not per route.
  const apiArn = `${event.methodArn.split('/').slice(0, 2).join('/')}/*`;
  return {
    principalId: tenant,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: apiArn }],
    },
    context: { tenant },
  };
}
