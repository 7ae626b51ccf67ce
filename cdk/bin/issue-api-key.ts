#!/usr/bin/env node
/**
 * Issues an API key for a tenant of a deployed environment. The key is printed once; only its
 * SHA-256 hash is stored (the API keys table), which is what the authorizer looks up.
 *
 *   npx tsx cdk/bin/issue-api-key.ts --env prod --tenant acme
 *
 * Uses the standard AWS credentials and region of the target account; under LocalStack set
 * AWS_ENDPOINT_URL=http://localhost:4566 (localstack/deploy.sh does).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ApiKeysRepo } from '../../core/adapters/api-keys-repo.js';
import { createAwsClients } from '../../core/adapters/aws-clients.js';
import { physicalName } from '../../core/app/declaration.js';
import { awsSchema, readConfig } from '../../core/config.js';
import { configFor } from '../config.js';

const { values } = parseArgs({
  options: { env: { type: 'string', default: 'dev' }, tenant: { type: 'string' } },
});
const tenant = values.tenant ?? '';
if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) {
  console.error('usage: issue-api-key.ts --env <dev|staging|prod> --tenant <letters, digits, _ or ->');
  process.exit(2);
}
const config = configFor(values.env);
const aws = createAwsClients(
  readConfig(awsSchema, { ...process.env, AWS_REGION: process.env.AWS_REGION ?? config.region }),
);
const key = `sk-ob-${randomBytes(24).toString('base64url')}`;
await new ApiKeysRepo(aws.doc, physicalName(config.prefix, 'apiKeys')).register(key, tenant);
console.log(key);
