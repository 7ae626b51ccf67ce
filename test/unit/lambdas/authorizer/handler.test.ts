import { createHash } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AWS_TEST_ENV, setAwsTestEnv } from '../../support/aws-env.js';

type Handler = typeof import('../../../../lambdas/authorizer/handler.js').handler;

const ddb = mockClient(DynamoDBDocumentClient);
let handler: Handler;

beforeAll(async () => {
  setAwsTestEnv();
  ({ handler } = await import('../../../../lambdas/authorizer/handler.js'));
});

afterEach(() => {
  ddb.reset();
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const event = (
  token: string,
  methodArn = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/v1/batches',
) => ({ type: 'TOKEN', authorizationToken: token, methodArn }) as APIGatewayTokenAuthorizerEvent;

describe('authorizer handler', () => {
  it('allows every method of the API for a known key, with the tenant as principal and context', async () => {
    ddb.on(GetCommand).resolves({ Item: { key_hash: sha256('sk-acme-1'), tenant: 'acme' } });
    expect(await handler(event('Bearer sk-acme-1'))).toEqual({
      principalId: 'acme',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'execute-api:Invoke',
            Effect: 'Allow',
            Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*',
          },
        ],
      },
      context: { tenant: 'acme' },
    });
  });

  it('looks the key up by its SHA-256 hash in the API keys table, never by the key itself', async () => {
    ddb.on(GetCommand).resolves({ Item: { tenant: 'acme' } });
    await handler(event('Bearer sk-acme-2'));
    const calls = ddb.commandCalls(GetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TableName: AWS_TEST_ENV.API_KEYS_TABLE,
      Key: { key_hash: sha256('sk-acme-2') },
    });
    expect(JSON.stringify(calls[0]?.args[0].input)).not.toContain('sk-acme-2');
  });

  it('answers a repeated key from its cache, without another DynamoDB read', async () => {
    ddb.on(GetCommand).resolves({ Item: { tenant: 'acme' } });
    await handler(event('Bearer sk-acme-3'));
    const again = await handler(
      event('Bearer sk-acme-3', 'arn:aws:execute-api:eu-west-1:1:api/stage/GET/v1/files'),
    );
    expect(again.principalId).toBe('acme');
    expect(again.policyDocument.Statement).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: 'arn:aws:execute-api:eu-west-1:1:api/stage/*',
      },
    ]);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
  });

  it("throws exactly 'Unauthorized' for an unknown key (API Gateway's signal for a 401)", async () => {
    ddb.on(GetCommand).resolves({});
    await expect(handler(event('Bearer sk-unknown'))).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws 'Unauthorized' for a disabled key", async () => {
    ddb.on(GetCommand).resolves({ Item: { tenant: 'acme', disabled: true } });
    await expect(handler(event('Bearer sk-disabled'))).rejects.toThrow(/^Unauthorized$/);
  });

  it("throws 'Unauthorized' for a malformed header, without a DynamoDB read", async () => {
    await expect(handler(event('sk-no-scheme'))).rejects.toThrow(/^Unauthorized$/);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('lets a DynamoDB failure through as an error other than Unauthorized (a 500, not a 401)', async () => {
    ddb.on(GetCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(handler(event('Bearer sk-throttled'))).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
  });
});
