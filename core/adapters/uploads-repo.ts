import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UploadRepo } from '../ports.js';
import type { UploadPartRecord, UploadRecord } from '../uploads/upload-record.js';
import { isConditionFailure, OneTable } from './resource-name.js';

/** The uploads table: one item per upload (`id`), one per API part (`<upload id>#<part id>`). */
export class UploadsRepo extends OneTable implements UploadRepo {
  async create(record: UploadRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: record,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  async get(tenant: string, id: string): Promise<UploadRecord | undefined> {
    // Part items share the table; an id with '#' is never an upload.
    if (id.includes('#')) return undefined;
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { tenant, id }, ConsistentRead: true }),
    );
    return out.Item as UploadRecord | undefined;
  }

  async claimMultipart(tenant: string, id: string, s3UploadId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant, id },
          UpdateExpression: 'SET s3_upload_id = :u',
          ConditionExpression: '#status = :pending AND attribute_not_exists(s3_upload_id)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':u': s3UploadId, ':pending': 'pending' },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async finish(tenant: string, id: string, status: UploadRecord['status'], nowS: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant, id },
          // Ended uploads leave the table a week later (TTL); their File lives on in the files table.
          UpdateExpression: 'SET #status = :to, completed_at = :now, #ttl = :ttl REMOVE #active',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status', '#active': 'active', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':to': status,
            ':now': nowS,
            ':pending': 'pending',
            ':ttl': nowS + 7 * 86_400,
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async putPart(part: UploadPartRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: part }));
  }

  async listParts(tenant: string, uploadId: string): Promise<UploadPartRecord[]> {
    const items: UploadPartRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'tenant = :t AND begins_with(id, :p)',
          ExpressionAttributeValues: { ':t': tenant, ':p': `${uploadId}#` },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as UploadPartRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async listExpired(nowS: number): Promise<UploadRecord[]> {
    const items: UploadRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'pending-by-expiry',
          KeyConditionExpression: '#active = :a AND expires_at <= :now',
          ExpressionAttributeNames: { '#active': 'active' },
          ExpressionAttributeValues: { ':a': 'yes', ':now': nowS },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as UploadRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}
