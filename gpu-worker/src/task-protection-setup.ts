import { ECSClient } from '@aws-sdk/client-ecs';
import { countCalls } from '../../core/adapters/aws-clients.js';
import { EcsTaskProtection, NoTaskProtection, type TaskProtection, taskIdentity } from './task-protection.js';

/**
 * ECS task scale-in protection on ECS (the agent injects ECS_CONTAINER_METADATA_URI_V4), none
 * elsewhere: the local runtime passes no metadata endpoint, so no ECS call is made there.
 */
export async function protectionFor(env: NodeJS.ProcessEnv, region: string): Promise<TaskProtection> {
  const task = await taskIdentity(env);
  if (!task) return new NoTaskProtection();
  const ecs = new ECSClient({ region });
  countCalls(ecs, 'ECS');
  return new EcsTaskProtection(ecs, task);
}
