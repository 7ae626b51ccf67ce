import { addClientMiddleware, type ClientMiddleware } from '../../core/adapters/aws-clients.js';
import { OBJECT_NOT_FOUND } from '../../core/adapters/blob-store.js';
import {
  actionsOf,
  bindingsOf,
  type Need,
  needsOf,
  queueActions,
  type ResourceKind,
} from '../../core/app/access.js';
import { POOL_QUEUE_URLS, type Uses } from '../../core/app/declaration.js';
import { parsePoolQueueUrls } from '../../core/app/resources.js';

/** One IAM permission: an action on one resource (table name, bucket name or queue URL). */
export interface Permission {
  action: string;
  kind: ResourceKind;
  resource: string;
}

/** What AWS answers when IAM refuses a call; the message names the principal and what it lacked. */
export class AccessDenied extends Error {
  override readonly name = 'AccessDenied';
  readonly $metadata = { httpStatusCode: 403 };
}

/**
 * The permissions a principal gets from its declaration: what the CDK app grants it, resolved
 * against the physical names in its environment. `consumes` adds receiving from a queue (a
 * worker's own pool queue).
 */
export function permissionsOf(
  uses: Uses,
  env: Record<string, string | undefined>,
  consumes?: string,
): Permission[] {
  const out: Permission[] = [];
  for (const b of bindingsOf(uses)) {
    const resource = env[b.env];
    if (!resource) continue;
    for (const action of actionsOf(b)) out.push({ action, kind: b.kind, resource });
  }
  // Sending to a pool's queue is sending to it in every pool group (POOL_QUEUE_URLS names them).
  const groups = parsePoolQueueUrls(env[POOL_QUEUE_URLS]);
  for (const q of uses.queues ?? []) {
    if (q !== 'spot' && q !== 'dedicated') continue;
    for (const urls of Object.values(groups))
      for (const action of queueActions.send) out.push({ action, kind: 'queue', resource: urls[q] });
  }
  if (consumes)
    for (const action of queueActions.consume) out.push({ action, kind: 'queue', resource: consumes });
  return out;
}

const describe = (n: Need) => `${n.action} on ${n.kind} ${n.resource}`;

/** Reads of one object. */
const OBJECT_READS = new Set(['GetObject', 'HeadObject']);

/**
 * SDK middleware that refuses any call the permissions do not cover, before it leaves the
 * process: the local runtime is never more forgiving than IAM on AWS.
 */
export function accessGuard(principal: string, permissions: readonly Permission[]): ClientMiddleware {
  const allowed = new Set(permissions.map((p) => `${p.kind}|${p.resource}|${p.action}`));
  return (service) => ({
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          const command = context.commandName ?? 'Unknown';
          const needs = needsOf(service, command, args.input as Record<string, unknown>);
          if (!needs) {
            throw new AccessDenied(
              `${principal} may not call ${service} ${command}: no declaration grants it`,
            );
          }
          const missing = needs.filter((n) => !allowed.has(`${n.kind}|${n.resource}|${n.action}`));
          if (missing.length > 0) {
            throw new AccessDenied(
              `${principal} is not authorized to perform ${missing.map(describe).join(', ')} (not in its declaration's uses, core/app/declaration.ts)`,
            );
          }
          if (service !== 'S3' || !OBJECT_READS.has(command.replace(/Command$/, ''))) return next(args);
          try {
            return await next(args);
          } catch (err) {
            // S3 tells a caller that an object does not exist (404) only if it may list the
            // bucket; otherwise it answers 403 AccessDenied. The emulator always says 404.
            const bucket = String((args.input as { Bucket?: unknown }).Bucket);
            if (OBJECT_NOT_FOUND.has((err as Error).name) && !allowed.has(`bucket|${bucket}|s3:ListBucket`))
              throw new AccessDenied(
                `${principal}: ${command} of a missing object, answered as S3 answers a caller without s3:ListBucket on ${bucket}`,
              );
            throw err;
          }
        },
        { step: 'initialize', name: 'openbatchAccessGuard', priority: 'high' },
      );
    },
  });
}

/** Installs the guard on every AWS client this process builds from now on. */
export function guardThisProcess(principal: string, permissions: readonly Permission[]): void {
  addClientMiddleware(accessGuard(principal, permissions));
}
