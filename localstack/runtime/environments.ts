import {
  type FunctionName,
  functions,
  POOL_QUEUE_URLS,
  physicalName,
  sendsToPoolQueues,
  type Uses,
  workerUses,
} from '../../core/app/declaration.js';
import { resourceEnvironment } from '../../core/app/resources.js';

/**
 * What the host platform sets besides the deployment's variables: the SDK's endpoint and
 * credentials (the Lambda runtime or the ECS agent on AWS; the emulator here), and the few
 * process settings a developer passes through (log level, metrics switch, paths).
 */
const passThrough = ['PATH', 'HOME', 'TMPDIR', 'LOG_LEVEL', 'OPENBATCH_METRICS', 'NODE_ENV', 'TZ'];

export function platformEnvironment(
  aws: Record<string, string>,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  // The SDK's notice that releases after January 2027 need Node 22 is shown once, by the
  // runtime itself, not by each of its dozen child processes.
  const out: Record<string, string> = { ...aws, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  for (const k of passThrough) if (parent[k] !== undefined) out[k] = parent[k] as string;
  return out;
}

export interface EnvironmentInputs {
  /** platformEnvironment(): endpoint, credentials, pass-through settings. */
  platform: Record<string, string>;
  /** The deployment's settings every function and worker gets (limits, SLA, engine settings). */
  settings: Record<string, string>;
  /** Every declared resource's variable → physical name or URL (from the bootstrap). */
  resources: Record<string, string>;
  prefix: string;
  allowedOrigins?: string;
}

const onlyDeclared = (uses: Uses, resources: Record<string, string>) => ({
  ...resourceEnvironment(uses, (b) => resources[b.env] ?? ''),
  ...(sendsToPoolQueues(uses) && resources[POOL_QUEUE_URLS]
    ? { [POOL_QUEUE_URLS]: resources[POOL_QUEUE_URLS] }
    : {}),
});

/**
 * A function's environment, as the CDK app builds it (cdk/lib/stacks/api-stack.ts): the shared
 * settings, ALLOWED_ORIGINS for an HTTP function, and the variables of exactly the resources
 * its `uses` declares. Nothing else: a resource it did not declare has no variable.
 */
export function functionEnvironment(name: FunctionName, inputs: EnvironmentInputs): Record<string, string> {
  const decl = functions[name];
  const serves = decl.triggers.some((t) => t.kind === 'http');
  return {
    ...inputs.platform,
    ...inputs.settings,
    AWS_LAMBDA_FUNCTION_NAME: physicalName(inputs.prefix, name),
    ...(serves && inputs.allowedOrigins !== undefined ? { ALLOWED_ORIGINS: inputs.allowedOrigins } : {}),
    ...onlyDeclared(decl.uses, inputs.resources),
  };
}

/**
 * A worker task's environment, as the compute stack builds it: settings, its uses. A worker
 * hands reclaimed work to its own pool group's dedicated queue, so it gets no POOL_QUEUE_URLS;
 * the fleet adds its pool, group, queue and that dedicated queue per worker (runtime.ts).
 */
export function workerEnvironment(inputs: EnvironmentInputs): Record<string, string> {
  return {
    ...inputs.platform,
    ...inputs.settings,
    ...resourceEnvironment(workerUses, (b) => inputs.resources[b.env] ?? ''),
  };
}
