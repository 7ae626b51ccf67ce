import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A resource's physical name, or a function that resolves it on first use. Deps hand adapters
 * the latter, so touching a resource the principal never declared fails with a WiringError
 * naming both, rather than calling AWS with an empty name.
 */
export type ResourceName = string | (() => string);

export const nameOf = (n: ResourceName): (() => string) => (typeof n === 'string' ? () => n : n);

/** True for a conditional write that lost (alone or inside a transaction). */
export const isConditionFailure = (err: unknown): boolean =>
  err instanceof Error &&
  (err.name === 'ConditionalCheckFailedException' ||
    (err.name === 'TransactionCanceledException' &&
      ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).some(
        (r) => r.Code === 'ConditionalCheckFailed',
      )));

/** An adapter over one DynamoDB table, whose name resolves on first use. */
export abstract class OneTable {
  private readonly tableName: () => string;

  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    table: ResourceName,
  ) {
    this.tableName = nameOf(table);
  }

  protected get table(): string {
    return this.tableName();
  }
}
