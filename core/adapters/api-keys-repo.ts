import { createHash } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRepo } from '../ports.js';
import { OneTable } from './resource-name.js';

/** API keys are stored only as SHA-256 hashes; the table maps a hash to its tenant. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export class ApiKeysRepo extends OneTable implements ApiKeyRepo {
  async tenantFor(apiKey: string): Promise<string | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { key_hash: hashApiKey(apiKey) } }),
    );
    const item = out.Item as { tenant?: string; disabled?: boolean } | undefined;
    return item && !item.disabled ? item.tenant : undefined;
  }

  async register(apiKey: string, tenant: string): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { key_hash: hashApiKey(apiKey), tenant } }),
    );
  }
}
