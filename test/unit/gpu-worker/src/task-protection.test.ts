import { createServer, type Server } from 'node:http';
import { ECSClient, UpdateTaskProtectionCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EcsTaskProtection,
  NoTaskProtection,
  taskIdentity,
} from '../../../../gpu-worker/src/task-protection.js';
import { protectionFor } from '../../../../gpu-worker/src/task-protection-setup.js';

const ecs = mockClient(ECSClient);
afterEach(() => ecs.reset());

const task = { cluster: 'arn:aws:ecs:us-east-1:1:cluster/c', taskArn: 'arn:aws:ecs:us-east-1:1:task/c/t1' };
const calls = () => ecs.commandCalls(UpdateTaskProtectionCommand).map((c) => c.args[0].input);

describe('EcsTaskProtection', () => {
  it('protects on the first held chunk and releases after the last, one call each', async () => {
    ecs.on(UpdateTaskProtectionCommand).resolves({ protectedTasks: [], failures: [] });
    const p = new EcsTaskProtection(new ECSClient({ region: 'us-east-1' }), task, {
      expiresInMinutes: 60,
      renewEveryMs: 60_000,
    });
    await p.hold();
    await p.hold();
    expect(p.held).toBe(true);
    await p.release();
    expect(calls()).toEqual([
      { cluster: task.cluster, tasks: [task.taskArn], protectionEnabled: true, expiresInMinutes: 60 },
    ]);
    await p.release();
    expect(p.held).toBe(false);
    expect(calls()[1]).toEqual({ cluster: task.cluster, tasks: [task.taskArn], protectionEnabled: false });
    await p.release(); // an extra release is harmless and calls nothing
    expect(calls()).toHaveLength(2);
  });

  it('never fails the work when ECS refuses or errs', async () => {
    ecs.on(UpdateTaskProtectionCommand).rejects(new Error('throttled'));
    const p = new EcsTaskProtection(new ECSClient({ region: 'us-east-1' }), task);
    await expect(p.hold()).resolves.toBeUndefined();
    await expect(p.release()).resolves.toBeUndefined();
  });
});

describe('taskIdentity and protectionFor', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('reads the cluster and task ARN from the task metadata endpoint v4', async () => {
    server = createServer((req, res) => {
      if (req.url === '/v4/abc/task')
        res.end(JSON.stringify({ Cluster: task.cluster, TaskARN: task.taskArn }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    expect(await taskIdentity({ ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/abc` })).toEqual(
      task,
    );
  });

  it('skips protection cleanly off ECS, where the local runtime passes no metadata endpoint', async () => {
    const p = await protectionFor({}, 'us-east-1');
    expect(p).toBeInstanceOf(NoTaskProtection);
    await p.hold();
    expect(p.held).toBe(true);
    await p.release();
    expect(calls()).toEqual([]);
  });
});
